import { LRUCache } from 'lru-cache';
import type { Plugin } from '../../kernel/types.js';
import { optionalBoolean, optionalNumber, optionalSize } from '../../plugin-kit/options.js';
import { encodeAnswer, type CachedAnswer } from '../cache/answer.js';

export interface MemoryCacheOptions {
  /** Default true; false keeps the other tiers and single flight without an in-process copy. */
  enabled?: boolean;
  /** Total size of the stored answers (bytes, or a string like `64mb`); default 64 MB. */
  maxBytes?: number | string;
  /** Largest single answer kept; default an eighth of `maxBytes`. */
  maxEntryBytes?: number | string;
  /** Default 3600 (1 h); a backend's `cache.ttlSeconds` replaces it. */
  ttlSeconds?: number;
}

const AT = 'plugins.memory-cache';

/** Built-in L1: an LRU of answers in this process, bounded by bytes and age; the first cache tier (stage -10). */
export function memoryCache(options: MemoryCacheOptions = {}): Plugin {
  const raw = options as Readonly<Record<string, unknown>>;
  const enabled = optionalBoolean(raw, 'enabled', AT) ?? true;
  const maxBytes = optionalSize(raw, 'maxBytes', AT) ?? 64 * 1024 ** 2;
  const maxEntryBytes = Math.min(maxBytes, optionalSize(raw, 'maxEntryBytes', AT) ?? Math.floor(maxBytes / 8));
  const ttlSeconds = optionalNumber(raw, 'ttlSeconds', AT) ?? 3600;
  return {
    name: 'memory-cache',
    dependencies: ['cache'],
    apply(api) {
      if (!enabled) return;
      const entries = new LRUCache<string, CachedAnswer>({
        maxSize: maxBytes,
        maxEntrySize: maxEntryBytes,
        sizeCalculation: (answer) => Math.max(1, encodeAnswer(answer).length),
        ttl: ttlSeconds * 1000,
      });
      api.getApi('cache').addTier({
        name: 'memory',
        plugin: 'memory-cache',
        stage: -10,
        ttlSeconds,
        maxEntryBytes,
        get: (keys) => entries.get(keys.key),
        set: (keys, answer, ttl) => {
          entries.set(keys.key, answer, { ttl: ttl * 1000 });
        },
        describe: () => ({ entries: entries.size, bytes: entries.calculatedSize, maxBytes }),
      });
    },
  };
}
