import { parsePluginOptions, positiveNumberOption, requiredStringOption, sizeOption, stringOption, z } from '../../src/plugin.js';
import { redisConnectionShape, resolveRedisConnection, type RedisConnection } from '../redis-cache/options.js';

const EMBEDDER = 'Required: { type: "ollama", model } | { type: "openai", url, model, apiKey? } | { backend: "<name>" }';
const POSITIVE = 'must be a positive number';
const WHOLE = 'must be a whole number';

/** Where vectors come from: Ollama's `/api/embed`, an OpenAI-compatible `/embeddings`, or a configured backend's `embed`. */
const embedderOption = z.discriminatedUnion(
  'type',
  [
    z.object({
      type: z.undefined().optional(),
      backend: z.string({ error: (issue) => (issue.input === undefined ? EMBEDDER : 'Required (a non-empty string)') }).min(1, 'Required (a non-empty string)'),
    }),
    z.object({ type: z.literal('ollama'), url: stringOption.optional(), model: requiredStringOption }),
    z.object({ type: z.literal('openai'), url: requiredStringOption, model: requiredStringOption, apiKey: stringOption.optional() }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'must be "ollama" or "openai" (or give `backend` instead)' : EMBEDDER) },
);

export type EmbedderOptions = z.output<typeof embedderOption>;

const wholeNumber = z.number({ error: POSITIVE }).positive(POSITIVE).int(WHOLE);

/** `["semantic-cache", {...}]`: an unknown key is an error. */
export const semanticCacheOptions = z.strictObject({
  /** Redis, as for `redis-cache`: `url` (else `REDIS_URL`, ...), `password`, `tls`, `cluster`, `operationTimeoutMs`, `connectTimeoutMs`. */
  ...redisConnectionShape,
  embedder: embedderOption,
  /** Cosine similarity of the embedded last user turns at or above which an earlier answer is served; default 0.95. */
  threshold: positiveNumberOption.max(1, 'must be a cosine similarity between 0 and 1').optional(),
  /** The longest a request waits for its embedding; default 2000 ms. */
  embedTimeoutMs: positiveNumberOption.optional(),
  /** Default 86400 (24 h); a backend's `cache.ttlSeconds` replaces it. */
  ttlSeconds: positiveNumberOption.optional(),
  /** The most answers kept per scope (the oldest go first); default 1000. */
  maxEntriesPerScope: wholeNumber.optional(),
  /** The in-process index (used when Redis has no vector search): bytes of vectors kept, least recently used scopes dropped first; default 64 MB. */
  maxIndexBytes: sizeOption.optional(),
  /** The in-process index re-reads a scope from Redis when its copy is older than this; default 5000 ms. */
  syncIntervalMs: positiveNumberOption.optional(),
  /** Longer questions are not answered semantically; default 8000 characters. */
  maxTextChars: wholeNumber.optional(),
  /** Larger answers (bytes of JSON) are not stored; default 4 MB. */
  maxEntryBytes: sizeOption.optional(),
  /** `auto` (default) uses Redis' vector search (FT.SEARCH) when the server has it; `off` always uses the in-process index. */
  vectorSearch: z.enum(['auto', 'off'], { error: 'must be "auto" or "off"' }).optional(),
});

export type SemanticCacheOptions = z.input<typeof semanticCacheOptions>;

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

/** Checks the options at start-up (errors name the field) and fills in the defaults. */
export function resolveSemanticSettings(options: SemanticCacheOptions, env: NodeJS.ProcessEnv = process.env): SemanticSettings {
  const checked = parsePluginOptions('semantic-cache', semanticCacheOptions, options);
  return {
    redis: resolveRedisConnection(checked, 'plugins.semantic-cache', env),
    embedder: checked.embedder,
    threshold: checked.threshold ?? 0.95,
    embedTimeoutMs: checked.embedTimeoutMs ?? 2000,
    ttlSeconds: checked.ttlSeconds ?? 86_400,
    maxEntriesPerScope: checked.maxEntriesPerScope ?? 1000,
    maxIndexBytes: checked.maxIndexBytes ?? 64 * 1024 ** 2,
    syncIntervalMs: checked.syncIntervalMs ?? 5000,
    maxTextChars: checked.maxTextChars ?? 8000,
    maxEntryBytes: checked.maxEntryBytes ?? 4 * 1024 ** 2,
    vectorSearch: checked.vectorSearch ?? 'auto',
  };
}
