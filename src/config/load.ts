import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { secretValuesIn } from '../secrets/collect.js';
import { parseBodyLimit } from './body-limit.js';
import { interpolate } from './interpolate.js';
import { isRecord } from './is-record.js';
import { defaultPluginResolver, resolvePlugins, type PluginResolver } from './plugins.js';
import { validateUserConfig } from './schema.js';
import { createExplorer, describeJsonError, exists, globalConfigPath, loadExplicit, loadFile, searchProject, type Explorer } from './sources.js';
import type { BackendConfig, ResolvedConfig, UserConfig } from './types.js';

export { defaultPluginResolver, isPlugin, type PluginResolver } from './plugins.js';
export { CONFIG_SEARCH_PLACES, globalConfigPath } from './sources.js';

export interface ResolveOptions {
  /** Where relative plugin names resolve from when no config file is involved. */
  cwd?: string;
  /** Used for `${VAR}` interpolation; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  pluginResolver?: PluginResolver;
  /** Missing variables, unknown keys, guessed active backend. Defaults to `console.warn`. */
  onWarning?: (message: string) => void;
  /** Name used in messages for an inline config. Default `inline config`. */
  source?: string;
  /** The config used when no layer defines a backend; without it, that is an error. */
  embeddedDefault?: EmbeddedDefault;
}

export interface EmbeddedDefault {
  backend: string;
  backends: Readonly<Record<string, BackendConfig>>;
}

export interface LoadConfigOptions extends Omit<ResolveOptions, 'source'> {
  /** Load exactly this file instead of searching. */
  configFile?: string;
  /** Home directory: the project search stops there and the global file lives there. */
  home?: string;
  /** Command-line flags; they win over every file. */
  overrides?: Partial<Pick<UserConfig, 'port' | 'host' | 'backend'>>;
}

export const CONFIG_DEFAULTS = {
  port: 8000,
  host: '127.0.0.1',
  logLevel: 'info',
  logFormat: 'auto',
  server: {
    bodyLimitBytes: 32 * 1024 * 1024,
    pingIntervalMs: 10_000,
    connectTimeoutMs: 10_000,
    firstByteTimeoutMs: 120_000,
    idleTimeoutMs: 300_000,
    shutdownGraceMs: 10_000,
  },
} as const satisfies Partial<ResolvedConfig>;

/** One source of configuration, already interpolated and validated. */
interface Layer {
  /** For `sources`: a path, `environment`, `global ~/.llm-proxy/config.json`, ... */
  source: string;
  /** For error messages: the file, or the variable / flag it came from. */
  file: string;
  /** Where relative plugin names resolve from. */
  dir: string;
  config: UserConfig;
  /** Missing `${VAR}` names per slot (`port`, `backends.cloud`, `server.idleTimeoutMs`). */
  missing: Map<string, string[]>;
}

interface Context {
  env: NodeJS.ProcessEnv;
  cwd: string;
  warn: (message: string) => void;
  pluginResolver: PluginResolver;
  embeddedDefault?: EmbeddedDefault;
}

/** Finds, loads, merges, interpolates and validates the configuration; see PRODUCT.md "Configuration". */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const ctx = makeContext(opts);
  const home = resolve(opts.home ?? homedir());
  const explorer = createExplorer(ctx.env, ctx.warn);
  const layers: Layer[] = [];

  const globalFile = globalConfigPath(home);
  const global = (await exists(globalFile)) ? await loadFile(explorer, globalFile) : undefined;
  if (global) layers.push(makeLayer(ctx, global, globalFile, `global ${join('~', '.llm-proxy', 'config.json')}`));

  for (const raw of await environmentLayers(explorer, ctx)) layers.push(makeLayer(ctx, raw.value, raw.file, 'environment'));

  const project = opts.configFile
    ? await loadExplicit(explorer, resolve(ctx.cwd, opts.configFile))
    : await searchProject(explorer, ctx.cwd, home);
  if (project) layers.push(makeLayer(ctx, project.config, project.filepath, project.filepath));

  const overrides = Object.fromEntries(Object.entries(opts.overrides ?? {}).filter(([, v]) => v !== undefined));
  if (Object.keys(overrides).length > 0) layers.push(makeLayer(ctx, overrides, 'command line', 'command line'));

  const resolved = await finalize(layers, ctx);
  return project ? { ...resolved, filepath: project.filepath } : resolved;
}

/** Library mode (`createProxy(config)`): the same defaults, interpolation, validation and plugins, no files. */
export async function resolveUserConfig(config: UserConfig, opts: ResolveOptions = {}): Promise<ResolvedConfig> {
  const ctx = makeContext(opts);
  const source = opts.source ?? 'inline config';
  return finalize([makeLayer(ctx, config, source, source)], ctx);
}

function makeContext(opts: ResolveOptions): Context {
  return {
    env: opts.env ?? process.env,
    cwd: resolve(opts.cwd ?? process.cwd()),
    warn: opts.onWarning ?? ((message) => console.warn(`[llm-proxy] ${message}`)),
    pluginResolver: opts.pluginResolver ?? defaultPluginResolver,
    embeddedDefault: opts.embeddedDefault,
  };
}

// ---------------------------------------------------------------- environment

interface RawLayer {
  value: unknown;
  file: string;
}

async function environmentLayers(explorer: Explorer, ctx: Context): Promise<RawLayer[]> {
  const { env } = ctx;
  const layers: RawLayer[] = [];
  const fromEnv = env.LLM_BACKEND_CONFIG?.trim();
  if (fromEnv?.startsWith('{')) {
    try {
      layers.push({ value: JSON.parse(fromEnv), file: 'LLM_BACKEND_CONFIG' });
    } catch (error) {
      throw new ConfigError(describeJsonError(error, fromEnv), { file: 'environment', field: 'LLM_BACKEND_CONFIG' });
    }
  } else if (fromEnv) {
    const file = resolve(ctx.cwd, fromEnv);
    if (!(await exists(file))) {
      throw new ConfigError(`file not found: ${file}`, { file: 'environment', field: 'LLM_BACKEND_CONFIG' });
    }
    layers.push({ value: await loadFile(explorer, file), file });
  }

  const vars: UserConfig = {};
  const port = env.LLM_PROXY_PORT?.trim();
  if (port) {
    if (port !== 'auto' && !/^\d+$/.test(port)) {
      throw new ConfigError('must be a port number (0-65535) or "auto"', { file: 'environment', field: 'LLM_PROXY_PORT' });
    }
    vars.port = port === 'auto' ? 'auto' : Number(port);
  }
  if (env.LLM_PROXY_HOST?.trim()) vars.host = env.LLM_PROXY_HOST.trim();
  if (env.LLM_BACKEND?.trim()) vars.backend = env.LLM_BACKEND.trim();
  const keys = env.LLM_PROXY_API_KEYS?.split(',').map((k) => k.trim()).filter(Boolean);
  if (keys?.length) vars.auth = { keys };
  if (Object.keys(vars).length > 0) layers.push({ value: vars, file: 'environment' });
  return layers;
}

// ---------------------------------------------------------------- layers and merging

/** Interpolates slot by slot, so a missing variable is only reported if its slot survives the merge. */
function makeLayer(ctx: Context, raw: unknown, file: string, source: string): Layer {
  const missing = new Map<string, string[]>();
  let value = raw;
  if (raw !== null && typeof raw === 'object' && !Array.isArray(raw)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(raw)) {
      const nested = (key === 'backends' || key === 'server') && isRecord(item);
      if (!nested) {
        out[key] = note(missing, key, interpolate(item, ctx.env));
        continue;
      }
      const inner: Record<string, unknown> = {};
      for (const [name, entry] of Object.entries(item)) {
        inner[name] = note(missing, `${key}.${name}`, interpolate(entry, ctx.env));
      }
      out[key] = inner;
    }
    value = out;
  }
  const { config, warnings } = validateUserConfig(value, file);
  warnings.forEach(ctx.warn);
  const dir = isAbsolute(file) ? dirname(file) : ctx.cwd;
  return { source, file, dir, config, missing };
}

function note(missing: Map<string, string[]>, slot: string, result: { value: unknown; missing: string[] }): unknown {
  if (result.missing.length > 0) missing.set(slot, result.missing);
  return result.value;
}

interface Merged {
  config: UserConfig;
  /** Slot -> the layer whose value won. */
  origin: Map<string, Layer>;
}

/** Layers in ascending precedence. Shallow per key; `backends` by name and `server` by field. */
function merge(layers: readonly Layer[]): Merged {
  const config: UserConfig = {};
  const origin = new Map<string, Layer>();
  for (const layer of layers) {
    const { backends, server, ...rest } = layer.config;
    if (backends) {
      config.backends = { ...config.backends, ...backends };
      for (const name of Object.keys(backends)) origin.set(`backends.${name}`, layer);
    }
    if (server) {
      const defined = Object.fromEntries(Object.entries(server).filter(([, v]) => v !== undefined));
      config.server = { ...config.server, ...defined };
      for (const field of Object.keys(defined)) origin.set(`server.${field}`, layer);
    }
    for (const [key, value] of Object.entries(rest)) {
      if (value === undefined) continue;
      Object.assign(config, { [key]: value });
      origin.set(key, layer);
    }
  }
  return { config, origin };
}

async function finalize(layers: readonly Layer[], ctx: Context): Promise<ResolvedConfig> {
  const { config, origin } = merge(layers);
  for (const [slot, layer] of origin) {
    for (const name of layer.missing.get(slot) ?? []) {
      ctx.warn(`${name} is not set (used by ${slot} in ${layer.file})`);
    }
  }

  const sources = [...new Set(layers.map((l) => l.source))].reverse();
  let backends: Record<string, BackendConfig> = config.backends ?? {};
  let embedded = false;
  if (Object.keys(backends).length === 0 && ctx.embeddedDefault) {
    backends = structuredClone(ctx.embeddedDefault.backends);
    sources.push('embedded default');
    embedded = true;
  }
  const backend = embedded && config.backend === undefined ? ctx.embeddedDefault!.backend : activeBackend(config, backends, origin, ctx);
  const backendFiles = Object.fromEntries(Object.keys(backends).map((name) => [name, origin.get(`backends.${name}`)?.file ?? 'embedded default']));

  const server = config.server ?? {};
  const defaults = CONFIG_DEFAULTS.server;
  const pluginLayer = origin.get('plugins');
  const pluginSecrets = [...secretValuesIn(config.plugins ?? [])];
  return {
    backend,
    port: config.port ?? CONFIG_DEFAULTS.port,
    host: config.host ?? CONFIG_DEFAULTS.host,
    backends,
    plugins: await resolvePlugins(config.plugins ?? [], { file: pluginLayer?.file, dir: pluginLayer?.dir ?? ctx.cwd }, ctx.pluginResolver),
    server: {
      bodyLimitBytes: server.bodyLimit === undefined ? defaults.bodyLimitBytes : (parseBodyLimit(server.bodyLimit) ?? defaults.bodyLimitBytes),
      pingIntervalMs: server.pingIntervalMs ?? defaults.pingIntervalMs,
      connectTimeoutMs: server.connectTimeoutMs ?? defaults.connectTimeoutMs,
      firstByteTimeoutMs: server.firstByteTimeoutMs ?? defaults.firstByteTimeoutMs,
      idleTimeoutMs: server.idleTimeoutMs ?? defaults.idleTimeoutMs,
      shutdownGraceMs: server.shutdownGraceMs ?? defaults.shutdownGraceMs,
    },
    auth: { keys: config.auth?.keys ?? [] },
    failover: typeof config.failover === 'string' ? { mode: config.failover } : (config.failover ?? { mode: 'explicit' }),
    logLevel: config.logLevel ?? CONFIG_DEFAULTS.logLevel,
    logFormat: config.logFormat ?? CONFIG_DEFAULTS.logFormat,
    ...(config.logFile === undefined ? {} : { logFile: logFilePath(config.logFile, origin.get('logFile')?.dir ?? ctx.cwd) }),
    sources,
    backendFiles,
    ...(pluginSecrets.length > 0 ? { pluginSecrets } : {}),
  };
}

/** `~/` is the home directory; a relative path starts at the directory of the config that set it. */
function logFilePath(path: string, dir: string): string {
  if (path === '~' || path.startsWith('~/')) return join(homedir(), path.slice(1));
  return isAbsolute(path) ? path : resolve(dir, path);
}

function activeBackend(config: UserConfig, backends: Record<string, unknown>, origin: Map<string, Layer>, ctx: Context): string {
  const names = Object.keys(backends);
  if (config.backend !== undefined) {
    if (names.includes(config.backend)) return config.backend;
    throw new ConfigError(`unknown backend "${config.backend}"; configured backends: ${names.join(', ')}`, {
      file: origin.get('backend')?.file,
      field: 'backend',
    });
  }
  const [first] = names;
  if (first === undefined) throw new ConfigError('no backend is configured', { field: 'backends' });
  if (names.length > 1) ctx.warn(`no "backend" is set; using "${first}", the first of: ${names.join(', ')}`);
  return first;
}
