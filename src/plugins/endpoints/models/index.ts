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

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

/**
 * One page as the Models API pages: `limit` (1-1000, default 20) entries after `after_id` or
 * before `before_id` (an id the list does not hold is a 400, as the API says), `has_more` when
 * there are more beyond the page in that direction.
 */
export function pageOf(all: ModelInfo[], query: Record<string, string | string[] | undefined>): { data: ModelInfo[]; has_more: boolean; first_id: string | null; last_id: string | null } {
  const one = (name: string) => {
    const value = query[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const rawLimit = one('limit');
  const limit = rawLimit === undefined ? DEFAULT_LIMIT : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new ProxyError(`limit: must be a whole number from 1 to ${MAX_LIMIT}, got ${JSON.stringify(rawLimit)}.`, { code: 'invalid_request', type: 'invalid_request_error' });
  }
  const after = one('after_id');
  const before = one('before_id');
  if (after !== undefined && before !== undefined) {
    throw new ProxyError('after_id and before_id cannot be used together.', { code: 'invalid_request', type: 'invalid_request_error' });
  }
  const at = (id: string, name: string) => {
    const index = all.findIndex((m) => m.id === id);
    if (index < 0) throw new ProxyError(`${name}: no model "${id}" in the list.`, { code: 'invalid_request', type: 'invalid_request_error' });
    return index;
  };
  let data: ModelInfo[];
  let more: boolean;
  if (before !== undefined) {
    const end = at(before, 'before_id');
    const start = Math.max(0, end - limit);
    data = all.slice(start, end);
    more = start > 0;
  } else {
    const start = after === undefined ? 0 : at(after, 'after_id') + 1;
    data = all.slice(start, start + limit);
    more = start + limit < all.length;
  }
  return { data, has_more: more, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

/** Built-in: GET /v1/models (paged as the Models API is) and /v1/models/:id in Anthropic's shapes. */
export function modelsEndpoint(): Plugin {
  return {
    name: 'models-endpoint',
    apply({ router, backends }) {
      router.get('/v1/models', (koa) => {
        koa.body = pageOf(listModelInfos(backends), koa.query);
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
