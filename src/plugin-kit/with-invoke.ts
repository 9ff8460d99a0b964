import type { Backend, ProviderResponse, UpstreamCall } from '../kernel/types.js';

/**
 * The backend with `invoke` wrapped (for `providers.decorate`); everything else is the backend's
 * own, called on the backend itself (its private fields stay reachable).
 */
export function withInvoke(
  backend: Backend,
  invoke: (call: UpstreamCall, next: (call: UpstreamCall) => Promise<ProviderResponse>) => Promise<ProviderResponse>,
): Backend {
  const next = (call: UpstreamCall) => backend.invoke(call);
  const wrapped = (call: UpstreamCall) => invoke(call, next);
  // Bound once per method, not on every access (resolveModel runs for every request).
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(backend, {
    get(target, property) {
      if (property === 'invoke') return wrapped;
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      let method = bound.get(property);
      if (method === undefined) bound.set(property, (method = (value as (...args: unknown[]) => unknown).bind(target)));
      return method;
    },
  });
}
