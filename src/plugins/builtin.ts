import { defaultPluginResolver, type PluginResolver } from '../config/load.js';
import type { ResolvedConfig } from '../config/types.js';
import type { Plugin } from '../kernel/types.js';
import { VERSION } from '../version.js';
import { cerebras } from '../../plugins/cerebras/index.js';
import { ollama } from '../../plugins/ollama/index.js';
import type { RedisCacheOptions } from '../../plugins/redis-cache/index.js';
import type { SemanticCacheOptions } from '../../plugins/semantic-cache/index.js';
import { adminEndpoint } from './endpoints/admin/index.js';
import { cache, type CachePluginOptions } from './cache/index.js';
import { memoryCache, type MemoryCacheOptions } from './memory-cache/index.js';
import { anthropicProvider } from './providers/anthropic/index.js';
import { clientAuth } from './request/client-auth/index.js';
import { defaultRouter } from './request/default-router/index.js';
import { failureAdvice, type FailureAdviceOptions } from './failure-advice/index.js';
import { healthEndpoint } from './endpoints/health/index.js';
import { modelsEndpoint } from './endpoints/models/index.js';
import { openaiProvider } from './providers/openai/index.js';
import { requestValidation } from './request/validation/index.js';
import { scriptedProvider } from './providers/scripted/index.js';
import { presetsProvider } from './providers/presets/index.js';
import { selfHostedProvider } from './providers/self-hosted/index.js';
import { sshTunnel } from './ssh-tunnel/index.js';

/** First-party plugins a config may name as a string (`"cerebras"` or `["cerebras", {...}]`). */
export const FIRST_PARTY: Record<string, (options: unknown) => Plugin | Promise<Plugin>> = {
  cache: (options) => cache(options as CachePluginOptions),
  'memory-cache': (options) => memoryCache(options as MemoryCacheOptions),
  // Loaded on demand: only configs that use Redis load ioredis.
  'redis-cache': async (options) => (await import('../../plugins/redis-cache/index.js')).redisCache(options as RedisCacheOptions),
  'semantic-cache': async (options) =>
    (await import('../../plugins/semantic-cache/index.js')).semanticCache(options as SemanticCacheOptions),
  cerebras: (options) => cerebras(options as Parameters<typeof cerebras>[0]),
  ollama: (options) => ollama(options as Parameters<typeof ollama>[0]),
  'failure-advice': (options) => failureAdvice(options as FailureAdviceOptions),
};

/**
 * The plugins every proxy runs, then the config's own. A config plugin with a built-in's
 * name replaces that built-in (to pass it options).
 */
export function assemblePlugins(config: ResolvedConfig): Plugin[] {
  const builtins: Plugin[] = [
    requestValidation(),
    clientAuth({ keys: config.auth.keys }),
    openaiProvider(),
    anthropicProvider(),
    selfHostedProvider(),
    presetsProvider(),
    scriptedProvider(),
    cerebras(),
    ollama(),
    defaultRouter(),
    failureAdvice(),
    cache(),
    memoryCache(),
    sshTunnel(),
    modelsEndpoint(),
    healthEndpoint({ version: VERSION }),
    adminEndpoint({ version: VERSION }),
  ];
  const overridden = new Set(config.plugins.map((p) => p.name));
  return [...builtins.filter((p) => !overridden.has(p.name)), ...config.plugins];
}

/** Resolves first-party plugin names (`"cerebras"`), then anything else as a module. */
export const pluginResolver: PluginResolver = async (name, options, fromDir) => {
  const firstParty = FIRST_PARTY[name];
  return firstParty ? firstParty(options) : defaultPluginResolver(name, options, fromDir);
};
