import { isRecord } from '../../config/is-record.js';
import { ConfigError } from '../../errors.js';
import type { BackendSpec, ProxyContext } from '../../kernel/types.js';

/** What one request allows: look up a stored answer, store this one. */
export interface CacheDirectives {
  lookup: boolean;
  store: boolean;
}

/** `backends.<name>.cache` in the config. */
export interface BackendCacheSettings {
  /** Default: the backend's `cacheByDefault` (true unless its provider says otherwise). */
  enabled: boolean;
  /** Replaces every tier's TTL for this backend's answers. */
  ttlSeconds?: number;
}

/**
 * `x-llm-proxy-cache: no-cache | refresh` (skip the lookup, still store), `no-store` (look up,
 * do not store), and the same meanings of `Cache-Control: no-cache / no-store`.
 */
export function requestDirectives(headers: ProxyContext['headers']): CacheDirectives {
  const tokens = new Set([...tokensOf(headers['x-llm-proxy-cache']), ...tokensOf(headers['cache-control'])]);
  return {
    lookup: !tokens.has('no-cache') && !tokens.has('refresh'),
    store: !tokens.has('no-store'),
  };
}

function tokensOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined.split(',').map((token) => token.trim().toLowerCase().split('=')[0] ?? '');
}

/**
 * Reads and checks `backends.<name>.cache`; throws a ConfigError naming the field. `byDefault`
 * applies when the setting does not say `enabled` (the provider's own default, e.g. scripted: false).
 */
export function backendCacheSettings(spec: BackendSpec, byDefault = true): BackendCacheSettings {
  const value = spec.options.cache;
  const at = `backends.${spec.name}.cache`;
  if (value === undefined) return { enabled: byDefault };
  if (typeof value === 'boolean') return { enabled: value };
  if (!isRecord(value)) throw new ConfigError('must be true, false or { enabled?, ttlSeconds? }', { field: at });
  const { enabled, ttlSeconds, ...rest } = value;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new ConfigError('unknown key (known: enabled, ttlSeconds)', { field: `${at}.${unknown}` });
  if (enabled !== undefined && typeof enabled !== 'boolean') throw new ConfigError('must be true or false', { field: `${at}.enabled` });
  if (ttlSeconds !== undefined && !(typeof ttlSeconds === 'number' && Number.isInteger(ttlSeconds) && ttlSeconds > 0)) {
    throw new ConfigError('must be a positive whole number of seconds', { field: `${at}.ttlSeconds` });
  }
  return { enabled: enabled ?? byDefault, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) };
}
