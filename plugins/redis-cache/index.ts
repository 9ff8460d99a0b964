import { decodeAnswer, encodeAnswer, type Plugin } from '../../src/plugin.js';
import { decodeValue, encodeValue } from './codec.js';
import { RedisLink } from './link.js';
import { sharedStore, type SharedStore } from './shared-store.js';
import { redisSecrets, resolveRedisSettings, type RedisCacheOptions } from './options.js';

export type { RedisCacheOptions } from './options.js';

/** What redis-cache offers other plugins: a small store in the same Redis, for state every proxy in front of it shares. */
export interface RedisCacheApi {
  /**
   * Keys under `llmp:v1:shared:`. Fails soft, as the cache does: `get` is undefined and `set` does
   * nothing while Redis is down or slow (`operationTimeoutMs`), and neither counts as a cache hit.
   */
  shared: SharedStore;
}

declare module '../../src/plugin.js' {
  interface PluginApis {
    'redis-cache': RedisCacheApi;
  }
}

/**
 * L2: answers shared by every proxy that uses the same Redis (one node or a Cluster), at
 * `cacheLookup` stage 10. A Redis that is down or slow never fails or slows a request beyond
 * `operationTimeoutMs`: the request goes on uncached. See README.md.
 */
export function redisCache(options: RedisCacheOptions = {}): Plugin {
  const settings = resolveRedisSettings(options);
  let link: RedisLink | undefined;
  // Usable in any plugin order: the link exists once this plugin applied.
  const api: RedisCacheApi = { shared: sharedStore(() => link) };
  return {
    name: 'redis-cache',
    dependencies: ['cache'],
    api,
    secrets: redisSecrets(settings),
    apply(api) {
      const redis = new RedisLink(settings, api.logger);
      link = redis;
      api.getApi('cache').addTier({
        name: 'redis',
        plugin: 'redis-cache',
        stage: 10,
        ttlSeconds: settings.ttlSeconds,
        maxEntryBytes: settings.maxEntryBytes,
        async get(keys, ctx) {
          const value = await redis.get(keys.key);
          if (!value) return undefined;
          const text = await decodeValue(value);
          const answer = text === undefined ? undefined : decodeAnswer(text);
          if (!answer) ctx.log.debug('redis-cache: an unreadable entry was ignored');
          return answer;
        },
        async set(keys, answer, ttlSeconds) {
          const text = encodeAnswer(answer);
          if (Buffer.byteLength(text) > settings.maxEntryBytes) {
            redis.counters.tooLarge++;
            return;
          }
          await redis.set(keys.key, await encodeValue(text, settings.compressAbove, settings.compression), ttlSeconds);
        },
        describe: () => ({ redis: redis.state }),
      });
      api.status.add('redis-cache', () => redis.report());
    },
    async ready() {
      await link?.ready();
    },
    close() {
      link?.close();
    },
  };
}

export default redisCache;
