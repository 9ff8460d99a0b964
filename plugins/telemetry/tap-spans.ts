import type { Tracer } from '@opentelemetry/api';
import type { HookName, ProxyContext, TapOnlyHooks } from '../../src/plugin.js';

/** The hooks a request waits on (`respond` runs after the answer, when the request's span has ended). */
const TIMED: readonly HookName[] = ['request', 'route', 'cacheLookup', 'transform', 'error'];

/**
 * A child span for every plugin tap that takes `thresholdMs` or more (`transform route-cache`,
 * `cacheLookup redis-cache`), added by intercepting the hooks as webpack's ProfilingPlugin does,
 * not by code in each plugin. A quicker tap costs two clock reads and no span.
 */
export function traceTaps(hooks: TapOnlyHooks, tracer: Tracer, thresholdMs: number): void {
  for (const hook of TIMED) {
    hooks[hook].intercept({
      register(tap) {
        const fn = tap.fn as (...args: unknown[]) => unknown;
        tap.fn = (...args: unknown[]) => {
          const ctx = (hook === 'transform' ? args[1] : args[0]) as ProxyContext | undefined;
          const parent = ctx?.state.span?.context;
          if (!parent) return fn(...args);
          const started = performance.now();
          const record = () => {
            const ended = performance.now();
            if (ended - started < thresholdMs) return;
            const span = tracer.startSpan(
              `${hook} ${tap.name}`,
              { startTime: performance.timeOrigin + started, attributes: { 'llm_proxy.hook': hook, 'llm_proxy.plugin': tap.name } },
              parent,
            );
            span.end(performance.timeOrigin + ended);
          };
          let result: unknown;
          try {
            result = fn(...args);
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
