import { ProxyError } from '../errors.js';
import type { Plugin, RouteDecision } from '../kernel/types.js';
import type { BackendRegistry } from '../kernel/types.js';

/**
 * Picks the backend for a request: `<backend>/<model>` or `<backend>,<model>` names one
 * explicitly (Claude Code's `/model`); a bare backend name uses its default model; anything
 * else goes to the active backend and its model mapping.
 */
export function routeRequest(model: string, backends: BackendRegistry): RouteDecision {
  const separator = model.search(/[/,]/);
  if (separator > 0) {
    const prefix = model.slice(0, separator);
    const rest = model.slice(separator + 1);
    const named = backends.get(prefix);
    if (named) return { backend: named, model: rest ? rest : named.resolveModel(model) };
    if (model[separator] === ',') {
      throw new ProxyError(`Unknown backend "${prefix}" in model "${model}". Defined backends: ${backends.names().join(', ')}.`, {
        code: 'unknown_backend',
        type: 'not_found_error',
      });
    }
  }
  const named = backends.get(model);
  if (named) return { backend: named, model: named.resolveModel(model) };
  const active = backends.get(backends.active);
  if (!active) {
    throw new ProxyError(`The active backend "${backends.active}" does not exist.`, { code: 'no_backend', type: 'api_error' });
  }
  return { backend: active, model: active.resolveModel(model) };
}

export function defaultRouter(): Plugin {
  return {
    name: 'default-router',
    enforce: 'post',
    apply({ hooks, backends }) {
      hooks.route.tap({ name: 'default-router', stage: 100 }, (ctx) => routeRequest(ctx.body.model, backends));
    },
  };
}
