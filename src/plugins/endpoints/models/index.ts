import type { ModelInfo } from '../../../anthropic/types.js';
import { ProxyError } from '../../../errors.js';
import type { BackendRegistry, Plugin } from '../../../kernel/types.js';
import { isClaudeModel } from '../../../plugin-kit/model-mapping.js';
import { PICKER_PREFIX } from '../../request/default-router/index.js';
import { ServedModels } from '../../request/default-router/served-models.js';

const CREATED = '2025-01-01T00:00:00Z';
const info = (id: string, display: string): ModelInfo => ({ type: 'model', id, display_name: display, created_at: CREATED });

/**
 * Every name `/model` can use, for each backend in config order: `anthropic/<backend>` (what
 * Claude Code's picker shows from a gateway's list), `<backend>` (its default model),
 * `<backend>/<model>` for its default model, then `<backend>/<model>` for each model its server
 * lists (`served`, when the list could be had).
 */
export function listModelInfos(backends: BackendRegistry, served: ReadonlyMap<string, readonly string[]> = new Map()): ModelInfo[] {
  const out: ModelInfo[] = [];
  for (const name of backends.names()) {
    const backend = backends.get(name)!;
    const model = backend.describe().model;
    const named = typeof model === 'string' ? model : undefined;
    out.push(info(`${PICKER_PREFIX}${name}`, `${name}${named ? ` · ${named}` : ''} (llm-proxy)`));
    out.push(info(name, `${name} (${backend.type} backend, default model)`));
    if (named) out.push(info(`${name}/${named}`, `${named} on ${name}`));
    for (const other of served.get(name) ?? []) if (other !== named) out.push(info(`${name}/${other}`, `${other} on ${name}`));
  }
  return out;
}

/** An id the router takes that the list does not hold: `<backend>/<any model>`, or a Claude name (the active backend's). */
function routedInfo(id: string, backends: BackendRegistry): ModelInfo | undefined {
  const bare = id.startsWith(PICKER_PREFIX) && backends.get(id.slice(PICKER_PREFIX.length).split('/', 1)[0]!) ? id.slice(PICKER_PREFIX.length) : id;
  const separator = bare.search(/[/,]/);
  if (separator > 0 && backends.get(bare.slice(0, separator))) return info(id, `${bare.slice(separator + 1)} on ${bare.slice(0, separator)}`);
  if (backends.get(bare)) return info(id, `${bare} (default model)`);
  if (isClaudeModel(bare)) return info(id, `${bare}, answered by the active backend (${backends.active})`);
  return undefined;
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
      const served = new ServedModels(backends);
      // Each backend's own list, bounded in time (Claude Code waits 3 s for the whole answer).
      const lists = async () => new Map((await served.all()).flatMap(({ backend, models }) => (models ? [[backend, models] as const] : [])));
      router.get('/v1/models', async (koa) => {
        koa.body = pageOf(listModelInfos(backends, await lists()), koa.query);
      });
      router.get('/v1/models/*id', async (koa) => {
        const raw: unknown = koa.params.id;
        const id = Array.isArray(raw) ? raw.join('/') : String(raw);
        const found = listModelInfos(backends, await lists()).find((m) => m.id === id) ?? routedInfo(id, backends);
        if (!found) {
          throw new ProxyError(`No model "${id}". Use GET /v1/models to list them.`, { code: 'unknown_model', type: 'not_found_error' });
        }
        koa.body = found;
      });
    },
  };
}
