import { urlCredentials, type Plugin, type PluginApi } from '../../src/plugin.js';
import { redisSecrets } from '../redis-cache/options.js';
import { embedderFor, EmbedderLink } from './embedder.js';
import { resolveSemanticSettings, type EmbedderOptions, type SemanticCacheOptions, type SemanticSettings } from './options.js';
import { SemanticTier } from './tier.js';

export type { EmbedderOptions, SemanticCacheOptions } from './options.js';

/**
 * The semantic tier (`cacheLookup` stage 20, after memory and Redis): a request that missed the
 * exact tiers is answered with an earlier answer of the same scope whose last user turn embeds
 * within `threshold` cosine similarity. Vectors and answers live in Redis. A failing embedder or
 * Redis is a miss, never a failed request. See README.md.
 */
export function semanticCache(options: SemanticCacheOptions): Plugin {
  const settings = resolveSemanticSettings(options);
  let api: PluginApi | undefined;
  let tier: SemanticTier | undefined;
  let embedder: EmbedderLink | undefined;
  return {
    name: 'semantic-cache',
    dependencies: ['cache'],
    secrets: semanticSecrets(settings),
    apply(pluginApi) {
      api = pluginApi;
      const semantic = new SemanticTier(settings, identityOf(settings.embedder), pluginApi.logger);
      tier = semantic;
      pluginApi.getApi('cache').addTier({
        name: 'semantic',
        plugin: 'semantic-cache',
        stage: 20,
        ttlSeconds: settings.ttlSeconds,
        maxEntryBytes: settings.maxEntryBytes,
        hitStatus: 'semantic-hit',
        get: (keys, ctx) => semantic.get(keys, ctx.signal),
        set: (keys, answer, ttlSeconds) => semantic.set(keys, answer, ttlSeconds),
        describe: () => semantic.describe(),
      });
      pluginApi.status.add('semantic-cache', () => semantic.report());
    },
    async ready() {
      if (!api || !tier) return;
      // A `backend` embedder exists only once every backend is built.
      embedder = new EmbedderLink(embedderFor(settings.embedder, api.backends), settings.embedTimeoutMs, api.logger);
      await tier.start(embedder);
    },
    async close() {
      tier?.close();
      await embedder?.source.close?.();
    },
  };
}

/** Redis' password and URL credentials, the embedder's key and URL credentials. */
function semanticSecrets(settings: SemanticSettings): string[] {
  const { embedder } = settings;
  const own = 'backend' in embedder ? [] : [...urlCredentials(embedder.url ?? ''), ...('apiKey' in embedder && embedder.apiKey ? [embedder.apiKey] : [])];
  return [...redisSecrets(settings.redis), ...own];
}

/** Vectors of another model are not comparable: each identity gets its own keys in Redis. */
function identityOf(embedder: EmbedderOptions): string {
  return 'backend' in embedder ? `backend:${embedder.backend}` : `${embedder.type}:${embedder.model}`;
}

export default semanticCache;
