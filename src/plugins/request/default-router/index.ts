import { ProxyError } from '../../../errors.js';
import type { Backend, BackendRegistry, Plugin, RouteDecision } from '../../../kernel/types.js';
import { modelMappingOf } from '../../../plugin-kit/options.js';
import { isClaudeModel, mappedModel } from '../../../plugin-kit/model-mapping.js';
import { ServedModels, serves } from './served-models.js';

/** Models named per backend in the "unknown model" error; the rest are counted. */
const LISTED = 12;

/**
 * Picks the backend for a request: `<backend>/<model>` or `<backend>,<model>` names one
 * explicitly (Claude Code's `/model`); a bare backend name uses its default model; a Claude
 * model name or a name a `models` glob maps goes to the active backend and its mapping; any
 * other name must be a model the active backend serves (its cached `listModels`). A name that
 * is none of these is an error listing the backends and their models, rather than the active
 * backend's default model in disguise. When the list cannot be fetched the request goes through.
 */
export async function routeRequest(requested: string, backends: BackendRegistry, served: ServedModels): Promise<RouteDecision> {
  const model = withoutPickerPrefix(requested, backends);
  const separator = model.search(/[/,]/);
  if (separator > 0) {
    const prefix = model.slice(0, separator);
    const rest = model.slice(separator + 1);
    const named = backends.get(prefix);
    if (named) return { backend: named, model: rest ? rest : named.resolveModel(model) };
    if (model[separator] === ',') {
      throw new ProxyError(`Unknown backend "${prefix}" in model "${model}". Defined backends: ${backends.names().join(', ')}.`, {
        code: 'unknown_backend',
        // Not a 404: Claude Code shows its own "issue with the selected model" text for those.
        type: 'invalid_request_error',
        retryable: false,
      });
    }
  }
  const named = backends.get(model);
  if (named) return { backend: named, model: named.resolveModel(model) };
  const active = backends.get(backends.active);
  if (!active) {
    throw new ProxyError(`The active backend "${backends.active}" does not exist.`, { code: 'no_backend', type: 'api_error', retryable: false });
  }
  if (isClaudeModel(model) || mapsModel(backends, active.name, model)) return { backend: active, model: active.resolveModel(model) };
  const list = await served.of(active.name);
  if (list === undefined) return { backend: active, model: active.resolveModel(model) };
  if (serves(list, model)) return { backend: active, model };
  throw await unknownModel(model, active, backends, served);
}

/**
 * Claude Code's `/model` picker lists only gateway models whose id starts with `claude` or
 * `anthropic` (2.1.197): the models endpoint lists `anthropic/<backend>[/<model>]`, which route
 * as `<backend>[/<model>]`.
 */
export const PICKER_PREFIX = 'anthropic/';

function withoutPickerPrefix(model: string, backends: BackendRegistry): string {
  if (!model.startsWith(PICKER_PREFIX)) return model;
  const rest = model.slice(PICKER_PREFIX.length);
  const backend = rest.split('/', 1)[0]!;
  return backends.get(backend) ? rest : model;
}

function mapsModel(backends: BackendRegistry, name: string, model: string): boolean {
  const spec = backends.spec(name);
  return spec !== undefined && mappedModel(modelMappingOf(spec.options, `backends.${name}`), model) !== undefined;
}

async function unknownModel(model: string, active: Backend, backends: BackendRegistry, served: ServedModels): Promise<ProxyError> {
  const lists = await served.all();
  const describe = ({ backend, models }: { backend: string; models: string[] | undefined }) => {
    const label = backend === active.name ? `${backend} (active)` : backend;
    if (models === undefined) return `${label}: its model list is unavailable`;
    if (models.length === 0) return `${label}: no models listed`;
    const more = models.length > LISTED ? ` and ${models.length - LISTED} more` : '';
    return `${label}: ${models.slice(0, LISTED).join(', ')}${more}`;
  };
  const elsewhere = lists.find((entry) => entry.backend !== active.name && entry.models && serves(entry.models, model));
  const example = elsewhere
    ? `${elsewhere.backend}/${model}`
    : `${active.name}/${lists.find((entry) => entry.backend === active.name)?.models?.[0] ?? '<model>'}`;
  return new ProxyError(
    `Unknown model "${model}": it is not a backend, a "<backend>/<model>" name, a Claude model, a \`models\` mapping, or a model the active backend "${active.name}" serves. Backends and their models: ${lists.map(describe).join('; ')}.`,
    {
      code: 'unknown_model',
      type: 'invalid_request_error',
      retryable: false,
      recommendations: [
        `${elsewhere ? `backend "${elsewhere.backend}" serves it: ` : ''}use --model ${example} (or /model ${example} in Claude Code)`,
        'or --model <backend> for a backend\'s default model',
      ],
    },
  );
}

export function defaultRouter(): Plugin {
  return {
    name: 'default-router',
    enforce: 'post',
    apply({ hooks, backends }) {
      const served = new ServedModels(backends);
      hooks.route.tapPromise({ name: 'default-router', stage: 100 }, (ctx) => routeRequest(ctx.body.model, backends, served));
    },
  };
}
