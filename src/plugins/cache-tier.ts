import type { PluginApi, ProxyContext } from '../kernel/types.js';
import type { TapOnlyHooks } from '../kernel/hooks.js';
import type { CachedAnswer } from './cache-answer.js';
import type { CacheKeys } from './cache-key.js';

/** A cache tier (memory, redis, semantic) as the `cache` plugin drives it. */
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
}

export interface TierRegistry {
  addTier(tier: CacheTier): void;
}

// One registry per kernel: every plugin of a kernel receives the same hooks view.
const registries = new WeakMap<TapOnlyHooks, TierRegistry>();

export function provideTierRegistry(api: PluginApi, registry: TierRegistry): void {
  registries.set(api.hooks, registry);
}

/** Adds a tier; call from the tier plugin's `apply` (it must declare `dependencies: ['cache']`). */
export function registerCacheTier(api: PluginApi, tier: CacheTier): void {
  const registry = registries.get(api.hooks);
  if (!registry) throw new Error(`cache tier "${tier.name}" needs the "cache" plugin`);
  registry.addTier(tier);
}
