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
  return new Proxy(backend, {
    get(target, property) {
      if (property === 'invoke') return (call: UpstreamCall) => invoke(call, next);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
