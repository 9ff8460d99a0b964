import { LRUCache } from 'lru-cache';
import type { Plugin } from '../../kernel/types.js';
import { parsePluginOptions } from '../../plugin-kit/plugin-options.js';
import { encodeAnswer, type CachedAnswer } from '../cache/answer.js';
import { memoryCacheOptions, type MemoryCacheOptions } from './options.js';

export { memoryCacheOptions, type MemoryCacheOptions } from './options.js';

/** Built-in L1: an LRU of answers in this process, bounded by bytes and age; the first cache tier (stage -10). */
export function memoryCache(options: MemoryCacheOptions = {}): Plugin {
  const checked = parsePluginOptions('memory-cache', memoryCacheOptions, options);
  const enabled = checked.enabled ?? true;
  const maxBytes = checked.maxBytes ?? 64 * 1024 ** 2;
  const maxEntryBytes = Math.min(maxBytes, checked.maxEntryBytes ?? Math.floor(maxBytes / 8));
  const ttlSeconds = checked.ttlSeconds ?? 3600;
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
        clear: () => entries.clear(),
      });
    },
  };
}
