import type { AsyncLocalStorage } from 'node:async_hooks';
import { trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import type { HookName, ProxyContext, TapOnlyHooks } from '../../src/plugin.js';

declare module '../../src/plugin.js' {
  interface ContextState {
    /** The hook phase running now, its span created when it ends (at the next phase, or the request's end). */
    phase?: Phase;
  }
}

interface Phase {
  hook: HookName;
  start: number;
  end: number;
  /** Started with the phase when the server span already exists (every phase but `request`), so what its taps do nests under it. */
  span?: { span: Span; context: Context };
  /** The taps that took `thresholdMs` or more, spans of their own under the phase's. */
  slow: Array<{ name: string; start: number; end: number }>;
}

/** The hooks a request waits on, each a phase span (`respond` runs after the answer: its taps only carry the context). */
const PHASES: readonly HookName[] = ['request', 'cacheLookup', 'route', 'transform', 'error'];
const ALL: readonly HookName[] = [...PHASES, 'respond'];

const contextOf = (hook: HookName, args: unknown[]): ProxyContext | undefined => (hook === 'transform' ? args[1] : args[0]) as ProxyContext | undefined;
const epoch = (at: number) => performance.timeOrigin + at;

/**
 * A span per hook phase (`request`, `cacheLookup`, …: from the hook's call to its last tap's end)
 * and, under it, one for every tap that took `thresholdMs` or more, added by intercepting the
 * hooks as webpack's ProfilingPlugin does, not by code in each plugin. Each tap runs with the
 * request's trace context in `storage`, so what it does (a Redis command, an embedding call)
 * becomes a span of the request. A quick tap costs two clock reads and no span.
 */
export function traceHooks(hooks: TapOnlyHooks, tracer: Tracer, storage: AsyncLocalStorage<Context>, thresholdMs: number): void {
  for (const hook of ALL) {
    const timed = PHASES.includes(hook);
    let taps = 0;
    hooks[hook].intercept({
      call: timed
        ? (...args: unknown[]) => {
            const ctx = contextOf(hook, args);
            if (!ctx) return;
            closePhase(tracer, ctx);
            // A hook no plugin taps is no phase worth a span.
            if (taps === 0) return;
            const now = performance.now();
            const server = ctx.state.span?.context;
            const exchange = hook === 'transform' ? (args[0] as { phase?: string }).phase : undefined;
            const attributes = { 'llm_proxy.hook': hook, ...(exchange ? { 'llm_proxy.exchange': exchange } : {}) };
            const span = server && tracer.startSpan(hook, { startTime: epoch(now), attributes }, server);
            ctx.state.phase = { hook, start: now, end: now, slow: [], ...(span && server ? { span: { span, context: trace.setSpan(server, span) } } : {}) };
          }
        : undefined,
      register(tap) {
        taps++;
        const fn = tap.fn as (...args: unknown[]) => unknown;
        tap.fn = (...args: unknown[]) => {
          const ctx = contextOf(hook, args);
          const server = ctx?.state.span?.context;
          if (!ctx || !server) return fn(...args);
          if (!timed) return storage.run(server, fn, ...args);
          const phase = ctx.state.phase;
          const parent = phase?.span?.context ?? server;
          const started = performance.now();
          const record = () => {
            const ended = performance.now();
            if (!phase) return;
            phase.end = ended;
            if (ended - started >= thresholdMs) phase.slow.push({ name: tap.name, start: started, end: ended });
          };
          let result: unknown;
          try {
            result = storage.run(parent, fn, ...args);
          } catch (error) {
            record();
            throw error;
          }
          if (result instanceof Promise) return result.finally(record);
          record();
          return result;
        };
        return tap;
      },
    });
  }
}

/** Ends the phase running on `ctx`, if any: its span, and a child for each slow tap. */
export function closePhase(tracer: Tracer, ctx: ProxyContext): void {
  const phase = ctx.state.phase;
  const parent = ctx.state.span?.context;
  ctx.state.phase = undefined;
  if (!phase || !parent) return;
  const span = phase.span?.span ?? tracer.startSpan(phase.hook, { startTime: epoch(phase.start), attributes: { 'llm_proxy.hook': phase.hook } }, parent);
  const inside = phase.span?.context ?? trace.setSpan(parent, span);
  for (const tap of phase.slow) {
    tracer.startSpan(`${phase.hook} ${tap.name}`, { startTime: epoch(tap.start), attributes: { 'llm_proxy.hook': phase.hook, 'llm_proxy.plugin': tap.name } }, inside).end(epoch(tap.end));
  }
  span.end(epoch(phase.end));
}
