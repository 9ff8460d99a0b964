import type { PluginApi, ProxyContext } from '../../kernel/types.js';
import type { CachedAnswer } from './answer.js';
import type { CacheKeys } from './key.js';

/** A cache tier (memory, redis, semantic) as the `cache` plugin drives it. */
import type { CacheSavings } from './savings.js';

export interface CacheTier {
  /** Shown in `ctx.cache.tier`, the access log and status: `memory`, `redis`, `semantic`. */
  readonly name: string;
  /** The plugin that registered it (errors in `get` are attributed to it). */
  readonly plugin: string;
  /** Its `cacheLookup` stage: memory -10, redis 10, semantic 20. */
  readonly stage: number;
  /** Default time to live; a backend's `cache.ttlSeconds` replaces it. */
  readonly ttlSeconds: number;
  /** The largest answer it keeps, in (approximate) bytes of JSON. */
  readonly maxEntryBytes: number;
  /** `semantic-hit` for a tier that answers similar requests; such hits are not copied into the tiers before it. */
  readonly hitStatus?: 'hit' | 'semantic-hit';
  /** A miss, and any failure (the tier reports its own outages), is `undefined`. */
  get(keys: CacheKeys, ctx: ProxyContext): CachedAnswer | undefined | Promise<CachedAnswer | undefined>;
  set(keys: CacheKeys, answer: CachedAnswer, ttlSeconds: number): void | Promise<void>;
  /** Details for the `cache` status section. */
  describe?(): Record<string, unknown>;
  /** Forgets every answer it holds (the dashboard's "clear the cache"); a tier without it keeps them. */
  clear?(): void | Promise<void>;
}

/** The `cache` plugin's api: what the tier plugins (memory, redis, semantic, yours) use. */
export interface CacheApi {
  /** Adds a tier to the lookup chain (at its stage) and to the stores after a miss. */
  addTier(tier: CacheTier): void;
  /** Each tier's own description (`entries`, `bytes`, ...), by tier name, as /health shows it. */
  tierReports(): Record<string, Record<string, unknown>>;
  /** Hits per tier, misses, tokens served from the cache and what they would have cost. */
  savings(): CacheSavingsReport;
  /** Clears every tier that can be cleared; returns their names. */
  clear(): Promise<string[]>;
}

export type CacheSavingsReport = ReturnType<CacheSavings['report']>;

declare module '../../kernel/types.js' {
  interface PluginApis {
    cache: CacheApi;
  }
}

/**
 * Adds a tier through the `cache` plugin's api; call from the tier plugin's `apply`, which must list
 * `'cache'` in its `dependencies`. The same as `api.getApi('cache').addTier(tier)`.
 */
export function registerCacheTier(api: PluginApi, tier: CacheTier): void {
  api.getApi('cache').addTier(tier);
}
