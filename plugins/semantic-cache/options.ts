import type { ConnectionOptions } from 'node:tls';
import { isRecord } from '../../src/plugin.js';
import { ConfigError } from '../../src/plugin.js';
import { optionalNumber, optionalSize, optionalString, requireString } from '../../src/plugin.js';
import { REDIS_CONNECTION_OPTIONS, rejectUnknownOptions, resolveRedisConnection, type RedisConnection } from '../redis-cache/options.js';

/** Where vectors come from: Ollama's `/api/embed`, an OpenAI-compatible `/embeddings`, or a configured backend's `embed`. */
export type EmbedderOptions =
  | { type: 'ollama'; url?: string; model: string }
  | { type: 'openai'; url: string; model: string; apiKey?: string }
  | { backend: string };

export interface SemanticCacheOptions {
  embedder: EmbedderOptions;
  /** Cosine similarity of the embedded last user turns at or above which an earlier answer is served; default 0.95. */
  threshold?: number;
  /** The longest a request waits for its embedding; default 2000 ms. */
  embedTimeoutMs?: number;
  /** Default 86400 (24 h); a backend's `cache.ttlSeconds` replaces it. */
  ttlSeconds?: number;
  /** The most answers kept per scope (the oldest go first); default 1000. */
  maxEntriesPerScope?: number;
  /** The in-process index (used when Redis has no vector search): bytes of vectors kept, least recently used scopes dropped first; default 64 MB. */
  maxIndexBytes?: number | string;
  /** The in-process index re-reads a scope from Redis when its copy is older than this; default 5000 ms. */
  syncIntervalMs?: number;
  /** Longer questions are not answered semantically; default 8000 characters. */
  maxTextChars?: number;
  /** Larger answers (bytes of JSON) are not stored; default 4 MB. */
  maxEntryBytes?: number | string;
  /** `auto` (default) uses Redis' vector search (FT.SEARCH) when the server has it; `off` always uses the in-process index. */
  vectorSearch?: 'auto' | 'off';
  /** Redis, as for `redis-cache`: `url` (else `REDIS_URL`, ...), `password`, `tls`, `cluster`, `operationTimeoutMs`, `connectTimeoutMs`. */
  url?: string;
  password?: string;
  tls?: boolean | ConnectionOptions;
  cluster?: { nodes: Array<string | { host: string; port: number }> };
  operationTimeoutMs?: number;
  connectTimeoutMs?: number;
}

export interface SemanticSettings {
  redis: RedisConnection;
  embedder: EmbedderOptions;
  threshold: number;
  embedTimeoutMs: number;
  ttlSeconds: number;
  maxEntriesPerScope: number;
  maxIndexBytes: number;
  syncIntervalMs: number;
  maxTextChars: number;
  maxEntryBytes: number;
  vectorSearch: 'auto' | 'off';
}

const AT = 'plugins.semantic-cache';
const KNOWN = new Set<string>([
  ...REDIS_CONNECTION_OPTIONS,
  'embedder', 'threshold', 'embedTimeoutMs', 'ttlSeconds', 'maxEntriesPerScope', 'maxIndexBytes', 'syncIntervalMs', 'maxTextChars', 'maxEntryBytes', 'vectorSearch',
]);

/** Checks the options at start-up (errors name the field) and fills in the defaults. */
export function resolveSemanticSettings(options: SemanticCacheOptions, env: NodeJS.ProcessEnv = process.env): SemanticSettings {
  const raw: Readonly<Record<string, unknown>> = isRecord(options) ? options : {};
  rejectUnknownOptions(raw, KNOWN, AT);
  const threshold = optionalNumber(raw, 'threshold', AT) ?? 0.95;
  if (threshold > 1) throw new ConfigError('must be a cosine similarity between 0 and 1', { field: `${AT}.threshold` });
  const vectorSearch = raw.vectorSearch ?? 'auto';
  if (vectorSearch !== 'auto' && vectorSearch !== 'off') throw new ConfigError('must be "auto" or "off"', { field: `${AT}.vectorSearch` });
  return {
    redis: resolveRedisConnection(raw, AT, env),
    embedder: embedderOf(raw.embedder),
    threshold,
    embedTimeoutMs: optionalNumber(raw, 'embedTimeoutMs', AT) ?? 2000,
    ttlSeconds: optionalNumber(raw, 'ttlSeconds', AT) ?? 86_400,
    maxEntriesPerScope: wholeNumber(raw, 'maxEntriesPerScope') ?? 1000,
    maxIndexBytes: optionalSize(raw, 'maxIndexBytes', AT) ?? 64 * 1024 ** 2,
    syncIntervalMs: optionalNumber(raw, 'syncIntervalMs', AT) ?? 5000,
    maxTextChars: wholeNumber(raw, 'maxTextChars') ?? 8000,
    maxEntryBytes: optionalSize(raw, 'maxEntryBytes', AT) ?? 4 * 1024 ** 2,
    vectorSearch,
  };
}

function embedderOf(value: unknown): EmbedderOptions {
  const at = `${AT}.embedder`;
  if (!isRecord(value)) {
    throw new ConfigError('Required: { type: "ollama", model } | { type: "openai", url, model, apiKey? } | { backend: "<name>" }', { field: at });
  }
  if (value.backend !== undefined) return { backend: requireString(value, 'backend', at) };
  const model = requireString(value, 'model', at);
  if (value.type === 'ollama') {
    const url = optionalString(value, 'url', at);
    return url === undefined ? { type: 'ollama', model } : { type: 'ollama', url, model };
  }
  if (value.type === 'openai') {
    const apiKey = optionalString(value, 'apiKey', at);
    const url = requireString(value, 'url', at);
    return apiKey === undefined ? { type: 'openai', url, model } : { type: 'openai', url, model, apiKey };
  }
  throw new ConfigError('must be "ollama" or "openai" (or give `backend` instead)', { field: `${at}.type` });
}

function wholeNumber(raw: Readonly<Record<string, unknown>>, key: string): number | undefined {
  const value = optionalNumber(raw, key, AT);
  if (value !== undefined && !Number.isInteger(value)) throw new ConfigError('must be a whole number', { field: `${AT}.${key}` });
  return value;
}
