import {
  defaultPluginResolver,
  loadConfig as loadConfigFiles,
  resolveUserConfig as resolveConfigObject,
  type EmbeddedDefault,
  type LoadConfigOptions,
  type PluginResolver,
  type ResolveOptions,
} from '../config/load.js';
import type { ResolvedConfig, UserConfig } from '../config/types.js';
import type { Plugin } from '../kernel/types.js';
import { VERSION } from '../version.js';
import { cerebras, type CerebrasPluginOptions } from '../../plugins/cerebras/index.js';
import { OLLAMA_URL, ollama, type OllamaPluginOptions } from '../../plugins/ollama/index.js';
import { rateLimitAdvisor, type RateLimitAdvisorOptions } from '../../plugins/rate-limit-advisor/index.js';
import type { RedisCacheOptions } from '../../plugins/redis-cache/index.js';
import type { SemanticCacheOptions } from '../../plugins/semantic-cache/index.js';
import type { TelemetryOptions } from '../../plugins/telemetry/index.js';
import type { WebFetchOptions } from '../../plugins/web-fetch/index.js';
import { dashboard, type DashboardOptions } from '../../plugins/dashboard/index.js';
import { adminEndpoint } from './endpoints/admin/index.js';
import { cache, type CachePluginOptions } from './cache/index.js';
import { memoryCache, type MemoryCacheOptions } from './memory-cache/index.js';
import { anthropicProvider } from './providers/anthropic/index.js';
import { clientAuth } from './request/client-auth/index.js';
import { defaultRouter } from './request/default-router/index.js';
import { backendHealth, type BackendHealthOptions } from './backend-health/index.js';
import { failureAdvice, type FailureAdviceOptions } from './failure-advice/index.js';
import { failover } from './failover/index.js';
import { contextWindow, type ContextWindowOptions } from './context-window/index.js';
import { healthEndpoint } from './endpoints/health/index.js';
import { modelsEndpoint } from './endpoints/models/index.js';
import { openaiProvider } from './providers/openai/index.js';
import { requestValidation } from './request/validation/index.js';
import { scriptedProvider } from './providers/scripted/index.js';
import { presetsProvider } from './providers/presets/index.js';
import { selfHostedProvider } from './providers/self-hosted/index.js';
import { sshTunnel } from './ssh-tunnel/index.js';
import { serverTiming } from './server-timing/index.js';
import { serverTools, type ServerToolsOptions } from './server-tools/index.js';
import { metrics, type MetricsOptions } from './metrics/index.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

/** Whether this config's proxy serves the dashboard: as its `dashboard` plugin says, else when it listens on loopback. */
export function servesDashboard(config: ResolvedConfig): boolean {
  const named = config.plugins.find((plugin) => plugin.name === 'dashboard');
  if (!named) return LOOPBACK_HOSTS.has(config.host);
  const api = named.api;
  return !(api !== null && typeof api === 'object' && 'enabled' in api && api.enabled === false);
}

interface Builtin {
  /** The instance every proxy runs, unless the config lists a plugin of the same name. */
  always?: (config: ResolvedConfig) => Plugin;
  /** How a config names it, with options: `"cerebras"` or `["cerebras", {...}]`. */
  named?: (options: unknown) => Plugin | Promise<Plugin>;
}

/**
 * The first-party plugins, in the order they run: one entry each. A new provider is its folder
 * and one line here.
 */
export const BUILTINS: Readonly<Record<string, Builtin>> = {
  'request-validation': { always: () => requestValidation() },
  'client-auth': { always: (config) => clientAuth({ keys: config.auth.keys }) },
  'openai-provider': { always: () => openaiProvider() },
  'anthropic-provider': { always: () => anthropicProvider() },
  'self-hosted-provider': { always: () => selfHostedProvider() },
  'presets-provider': { always: () => presetsProvider() },
  'scripted-provider': { always: () => scriptedProvider() },
  cerebras: { always: () => cerebras(), named: (options) => cerebras(options as CerebrasPluginOptions) },
  ollama: { always: () => ollama(), named: (options) => ollama(options as OllamaPluginOptions) },
  'default-router': { always: () => defaultRouter() },
  // Server tools reach only Anthropic's own API; elsewhere they are removed, with a warning.
  'server-tools': { always: () => serverTools(), named: (options) => serverTools(options as ServerToolsOptions) },
  'backend-health': { always: () => backendHealth(), named: (options) => backendHealth(options as BackendHealthOptions) },
  'failure-advice': {
    always: (config) => failureAdvice(config.failover?.mode === 'off' ? { enabled: false } : {}),
    named: (options) => failureAdvice(options as FailureAdviceOptions),
  },
  'rate-limit-advisor': { always: () => rateLimitAdvisor(), named: (options) => rateLimitAdvisor(options as RateLimitAdvisorOptions) },
  failover: { always: (config) => failover(config.failover) },
  'context-window': { always: () => contextWindow(), named: (options) => contextWindow(options as ContextWindowOptions) },
  cache: { always: () => cache(), named: (options) => cache(options as CachePluginOptions) },
  'memory-cache': { always: () => memoryCache(), named: (options) => memoryCache(options as MemoryCacheOptions) },
  // Loaded on demand: only configs that use Redis load ioredis.
  'redis-cache': { named: async (options) => (await import('../../plugins/redis-cache/index.js')).redisCache(options as RedisCacheOptions) },
  // Loaded on demand: only configs that trace load OpenTelemetry.
  telemetry: { named: async (options) => (await import('../../plugins/telemetry/index.js')).telemetry(options as TelemetryOptions) },
  // On by default for a proxy on loopback (its own user's): one ring write per request.
  dashboard: { always: (config) => dashboard({ enabled: LOOPBACK_HOSTS.has(config.host) }), named: (options) => dashboard(options as DashboardOptions) },
  'semantic-cache': {
    named: async (options) => (await import('../../plugins/semantic-cache/index.js')).semanticCache(options as SemanticCacheOptions),
  },
  // Loaded on demand: only configs that run web_fetch in the proxy load it.
  'web-fetch': { named: async (options) => (await import('../../plugins/web-fetch/index.js')).webFetch(options as WebFetchOptions) },
  'ssh-tunnel': { always: () => sshTunnel() },
  'server-timing': { always: () => serverTiming() },
  metrics: { always: () => metrics(), named: (options) => metrics(options as MetricsOptions) },
  'models-endpoint': { always: () => modelsEndpoint() },
  'health-endpoint': { always: () => healthEndpoint({ version: VERSION }) },
  'admin-endpoint': { always: () => adminEndpoint({ version: VERSION }) },
};

/**
 * The plugins every proxy runs, then the config's own. A config plugin with a built-in's
 * name replaces that built-in (to pass it options).
 */
export function assemblePlugins(config: ResolvedConfig): Plugin[] {
  const overridden = new Set(config.plugins.map((p) => p.name));
  const builtins = Object.entries(BUILTINS).flatMap(([name, builtin]) => (builtin.always && !overridden.has(name) ? [builtin.always(config)] : []));
  return [...builtins, ...config.plugins];
}

/** Resolves first-party plugin names (`"cerebras"`), then anything else as a module. */
export const pluginResolver: PluginResolver = async (name, options, fromDir) => {
  const named = BUILTINS[name]?.named;
  return named ? named(options) : defaultPluginResolver(name, options, fromDir);
};

/** What runs when no config defines a backend: the local Ollama, with the model the setup template suggests. */
export const EMBEDDED_DEFAULT_CONFIG = {
  backend: 'ollama',
  backends: { ollama: { type: 'ollama', url: OLLAMA_URL, model: 'qwen3-coder:30b' } },
} as const satisfies EmbeddedDefault;

/** `loadConfig` with the built-ins: first-party plugin names resolve, and no config means the embedded default. */
export function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  return loadConfigFiles({ pluginResolver, embeddedDefault: EMBEDDED_DEFAULT_CONFIG, ...options });
}

/** `resolveUserConfig` with the built-ins (library mode). */
export function resolveUserConfig(config: UserConfig, options: ResolveOptions = {}): Promise<ResolvedConfig> {
  return resolveConfigObject(config, { pluginResolver, embeddedDefault: EMBEDDED_DEFAULT_CONFIG, ...options });
}
