import type { ModelInfo } from '../../../anthropic/types.js';
import { ProxyError } from '../../../errors.js';
import type { BackendRegistry, Plugin } from '../../../kernel/types.js';

const CREATED = '2025-01-01T00:00:00Z';
const info = (id: string, display: string): ModelInfo => ({ type: 'model', id, display_name: display, created_at: CREATED });

/** Every name `/model` can use: `<backend>` (its default model) and `<backend>/<model>`. */
export function listModelInfos(backends: BackendRegistry): ModelInfo[] {
  const out: ModelInfo[] = [];
  for (const name of backends.names()) {
    const backend = backends.get(name)!;
    out.push(info(name, `${name} (${backend.type} backend, default model)`));
    const model = backend.describe().model;
    if (typeof model === 'string') out.push(info(`${name}/${model}`, `${model} on ${name}`));
  }
  return out;
}

/** Built-in: GET /v1/models and /v1/models/:id in Anthropic's shapes. */
export function modelsEndpoint(): Plugin {
  return {
    name: 'models-endpoint',
    apply({ router, backends }) {
      router.get('/v1/models', (koa) => {
        const data = listModelInfos(backends);
        koa.body = { data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
      });
      router.get('/v1/models/*id', (koa) => {
        const raw: unknown = koa.params.id;
        const id = Array.isArray(raw) ? raw.join('/') : String(raw);
        const found = listModelInfos(backends).find((m) => m.id === id);
        if (!found) {
          throw new ProxyError(`No model "${id}". Use GET /v1/models to list them.`, { code: 'unknown_model', type: 'not_found_error' });
        }
        koa.body = found;
      });
    },
  };
}
