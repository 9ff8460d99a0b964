import {
  AsyncParallelHook,
  AsyncSeriesBailHook,
  AsyncSeriesHook,
  AsyncSeriesWaterfallHook,
} from 'tapable';
import type { ProxyError } from '../errors.js';
import type { CacheHit, Exchange, Outcome, ProxyContext, RouteDecision } from './types.js';

/** Every hook of the request lifecycle, declared once. See docs/ARCHITECTURE.md. */
export function createHooks() {
  return Object.freeze({
    /** Validate, normalise, authenticate; reject by throwing a ProxyError. */
    request: new AsyncSeriesHook<[ProxyContext]>(['context']),
    /** First tap returning a CacheHit wins; a miss returns undefined (never null). */
    cacheLookup: new AsyncSeriesBailHook<[ProxyContext], CacheHit | undefined>(['context']),
    /** First tap returning a RouteDecision picks the backend and upstream model. */
    route: new AsyncSeriesBailHook<[ProxyContext], RouteDecision | undefined>(['context']),
    /** Rewrite the request before it goes upstream, or wrap the response; undefined keeps it. */
    transform: new AsyncSeriesWaterfallHook<[Exchange, ProxyContext]>(['exchange', 'context']),
    /** Side effects after the response was sent: cache store, metrics, advisor. */
    respond: new AsyncParallelHook<[ProxyContext, Outcome]>(['context', 'outcome']),
    /** Observe errors; only the kernel turns them into HTTP. */
    error: new AsyncSeriesHook<[ProxyContext, ProxyError]>(['context', 'error']),
  });
}

export type Hooks = ReturnType<typeof createHooks>;
export type HookName = keyof Hooks;

type TapOnly<H> = H extends { tap: infer T; tapPromise: infer P; intercept: infer I }
  ? { tap: T; tapPromise: P; intercept: I }
  : never;

/** What plugins receive: they may tap and intercept, never call. */
export type TapOnlyHooks = { readonly [K in HookName]: TapOnly<Hooks[K]> };

export function tapOnly(hooks: Hooks): TapOnlyHooks {
  const view = {} as Record<HookName, unknown>;
  for (const name of Object.keys(hooks) as HookName[]) {
    const hook = hooks[name];
    view[name] = Object.freeze({
      tap: hook.tap.bind(hook),
      tapPromise: hook.tapPromise.bind(hook),
      intercept: hook.intercept.bind(hook),
    });
  }
  return Object.freeze(view) as TapOnlyHooks;
}
