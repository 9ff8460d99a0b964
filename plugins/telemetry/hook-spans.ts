import { trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { HookName, ProxyContext, TapOnlyHooks } from '../../src/plugin.js';
import type { TraceCarrier } from './trace-carrier.js';

declare module '../../src/plugin.js' {
  interface ContextState {
    /** The hook phase running now, its span created when it ends (at the next phase, or the request's end). */
    phase?: Phase;
  }
}

interface Phase {
  hook: HookName;
  /** `transform`'s: `request` or `response`. */
  exchange?: string;
  start: number;
  end: number;
  /**
   * Started with the phase when requests carry their trace context (Redis or an embedder in use)
   * and the server span exists, so what its taps do nests under it; else made when it ends.
   */
  span?: { span: Span; context: Context };
  /** The taps that took `thresholdMs` or more, spans of their own under the phase's. */
  slow?: Array<{ name: string; start: number; end: number }>;
}

/** The hooks a request waits on, each a phase span (`respond` runs after the answer: its taps only carry the context). */
const PHASES: readonly HookName[] = ['request', 'cacheLookup', 'route', 'transform', 'error'];
const ALL: readonly HookName[] = [...PHASES, 'respond'];

const contextOf = (hook: HookName, args: unknown[]): ProxyContext | undefined => (hook === 'transform' ? args[1] : args[0]) as ProxyContext | undefined;

export interface Thresholds {
  /** A phase this long or more gets a span of its own, ms. */
  phaseSpanMs: number;
  /** A tap this long or more gets a span of its own, ms. */
  tapSpanMs: number;
}
const epoch = (at: number) => performance.timeOrigin + at;

/**
 * The time of every hook phase (`request`, `cacheLookup`, …: from the hook's call to its last
 * tap's end) on the request's span, a span for each phase that took `phaseSpanMs` or more and,
 * under it, one for every tap that took `tapSpanMs` or more, added by intercepting the
 * hooks as webpack's ProfilingPlugin does, not by code in each plugin. Each tap runs with the
 * request's trace context in `carrier`, so what it does (a Redis command, an embedding call)
 * becomes a span of the request. A quick tap costs two clock reads and no span.
 */
export function traceHooks(hooks: TapOnlyHooks, tracer: Tracer, carrier: TraceCarrier, thresholds: Thresholds): void {
  const thresholdMs = thresholds.tapSpanMs;
  for (const hook of ALL) {
    const timed = PHASES.includes(hook);
    let taps = 0;
    hooks[hook].intercept({
      call: timed
        ? (...args: unknown[]) => {
            const ctx = contextOf(hook, args);
            if (!ctx) return;
            closePhase(tracer, ctx, thresholds.phaseSpanMs);
            // A hook no plugin taps is no phase worth a span.
            if (taps === 0) return;
            const now = performance.now();
            const phase: Phase = { hook, start: now, end: now };
            if (hook === 'transform') phase.exchange = (args[0] as { phase?: string }).phase;
            const server = ctx.state.span?.context;
            if (server && carrier.active) {
              const span = tracer.startSpan(hook, { startTime: epoch(now), attributes: phaseAttributes(phase) }, server);
              phase.span = { span, context: trace.setSpan(server, span) };
            }
            ctx.state.phase = phase;
          }
        : undefined,
      register(tap) {
        taps++;
        const fn = tap.fn as (...args: unknown[]) => unknown;
        // Hooks pass one or two arguments (`transform`: exchange, context): fixed, so no array per call.
        tap.fn = (first: unknown, second: unknown) => {
          const ctx = (hook === 'transform' ? second : first) as ProxyContext | undefined;
          const server = ctx?.state.span?.context;
          if (!ctx || !server) return fn(first, second);
          const phase = timed ? ctx.state.phase : undefined;
          if (!phase) return carrier.active ? carrier.run(server, fn, first, second) : fn(first, second);
          const started = performance.now();
          let result: unknown;
          try {
            result = carrier.active ? carrier.run(phase.span?.context ?? server, fn, first, second) : fn(first, second);
          } catch (error) {
            tapEnded(phase, tap.name, started, thresholdMs);
            throw error;
          }
          if (!(result instanceof Promise)) {
            tapEnded(phase, tap.name, started, thresholdMs);
            return result;
          }
          return result.then(
            (value: unknown) => {
              tapEnded(phase, tap.name, started, thresholdMs);
              return value;
            },
            (error: unknown) => {
              tapEnded(phase, tap.name, started, thresholdMs);
              throw error;
            },
          );
        };
        return tap;
      },
    });
  }
}

function tapEnded(phase: Phase, name: string, started: number, thresholdMs: number): void {
  const ended = performance.now();
  phase.end = ended;
  if (ended - started >= thresholdMs) (phase.slow ??= []).push({ name, start: started, end: ended });
}

const phaseAttributes = (phase: Phase) => (phase.exchange ? { 'llm_proxy.hook': phase.hook, 'llm_proxy.exchange': phase.exchange } : { 'llm_proxy.hook': phase.hook });

/**
 * Ends the phase running on `ctx`, if any. Its time goes on the server span
 * (`llm_proxy.phase.<hook>_ms`); a span of its own when it took `phaseSpanMs` or more, ran a slow
 * tap, or already has one (it carried a traced operation's context); then a child for each slow tap.
 */
export function closePhase(tracer: Tracer, ctx: ProxyContext, phaseSpanMs: number): void {
  const phase = ctx.state.phase;
  const server = ctx.state.span;
  ctx.state.phase = undefined;
  if (!phase || !server || !server.span.isRecording()) {
    phase?.span?.span.end(epoch(phase.end));
    return;
  }
  const parent = server.context;
  const key = `llm_proxy.phase.${phase.exchange ? `${phase.hook}_${phase.exchange}` : phase.hook}_ms`;
  server.span.setAttribute(key, Math.round((phase.end - phase.start) * 1000) / 1000);
  if (!phase.span && !phase.slow && phase.end - phase.start < phaseSpanMs) return;
  const span = phase.span?.span ?? tracer.startSpan(phase.hook, { startTime: epoch(phase.start), attributes: phaseAttributes(phase) }, parent);
  if (phase.slow) {
    const inside = phase.span?.context ?? trace.setSpan(parent, span);
    for (const tap of phase.slow) {
      tracer.startSpan(`${phase.hook} ${tap.name}`, { startTime: epoch(tap.start), attributes: { 'llm_proxy.hook': phase.hook, 'llm_proxy.plugin': tap.name } }, inside).end(epoch(tap.end));
    }
  }
  span.end(epoch(phase.end));
}
