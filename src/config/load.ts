import { stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cosmiconfig, defaultLoaders, type Loader } from 'cosmiconfig';
import { createJiti } from 'jiti';
import { ConfigError } from '../kernel/errors.js';
import type { Plugin } from '../kernel/types.js';
import { parseBodyLimit } from './body-limit.js';
import type { ConfigEnv } from './define-config.js';
import { interpolate } from './interpolate.js';
import { validateUserConfig } from './schema.js';
import type { PluginEntry, ResolvedConfig, UserConfig } from './types.js';

/** Turns a plugin name (`[name, options]` or a bare name) into a plugin; `fromDir` is the config's folder. */
export type PluginResolver = (name: string, options: unknown, fromDir: string) => Promise<Plugin>;

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
}

export interface LoadConfigOptions extends Omit<ResolveOptions, 'source'> {
  /** Load exactly this file instead of searching. */
  configFile?: string;
  /** Home directory: the project search stops there and the global file lives there. */
  home?: string;
  /** Command-line flags; they win over every file. */
  overrides?: Partial<Pick<UserConfig, 'port' | 'host' | 'backend'>>;
}

export const CONFIG_SEARCH_PLACES = [
  'package.json',
  '.llmrc.json',
  '.llmrc',
  'llm-proxy.config.ts',
  'llm-proxy.config.mts',
  'llm-proxy.config.js',
  'llm-proxy.config.mjs',
  '.config/llm-proxy.json',
] as const;

export const globalConfigPath = (home: string = homedir()): string => join(home, '.llm-proxy', 'config.json');

export const EMBEDDED_DEFAULT_CONFIG = {
  backend: 'ollama',
  backends: { ollama: { type: 'openai', url: 'http://127.0.0.1:11434/v1' } },
} as const satisfies UserConfig;

export const CONFIG_DEFAULTS = {
  port: 8000,
  host: '127.0.0.1',
  logLevel: 'info',
  logFormat: 'pretty',
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
  /** Missing `${VAR}` names per slot (`port`, `backends.cerebras`, `server.idleTimeoutMs`). */
  missing: Map<string, string[]>;
}

interface Context {
  env: NodeJS.ProcessEnv;
  cwd: string;
  warn: (message: string) => void;
  pluginResolver: PluginResolver;
}

/** Finds, loads, merges, interpolates and validates the configuration; see PRODUCT.md "Configuration". */
export async function loadConfig(opts: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const ctx = makeContext(opts);
  const home = resolve(opts.home ?? homedir());
  const explorer = createExplorer(ctx.env);
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
  };
}

// ---------------------------------------------------------------- files

type Explorer = ReturnType<typeof cosmiconfig>;

function createExplorer(env: NodeJS.ProcessEnv): Explorer {
  const script = scriptLoader(env);
  return cosmiconfig('llm-proxy', {
    searchPlaces: [...CONFIG_SEARCH_PLACES],
    packageProp: 'llm-proxy',
    // One directory per call: the walk up (stopping at home) is ours, and no XDG global dir is read.
    searchStrategy: 'none',
    cache: false,
    loaders: {
      '.json': jsonLoader,
      noExt: dataLoader,
      '.js': script,
      '.mjs': script,
      '.cjs': script,
      '.ts': script,
      '.mts': script,
      '.cts': script,
    },
  });
}

/** `jiti` rather than cosmiconfig's TS loader, so a config may import other `.ts` files. */
function scriptLoader(env: NodeJS.ProcessEnv): Loader {
  return async (filepath) => {
    const jiti = createJiti(import.meta.url, { interopDefault: true, moduleCache: false });
    const exported = await jiti.import<unknown>(filepath, { default: true });
    if (typeof exported !== 'function') return await exported;
    const configEnv: ConfigEnv = { mode: env.NODE_ENV ?? 'production', env };
    return await (exported as (e: ConfigEnv) => unknown)(configEnv);
  };
}

// Parser messages may quote the file's text (and so a key); these keep only the reason and position.
function jsonLoader(_filepath: string, content: string): unknown {
  try {
    return JSON.parse(content);
  } catch (error) {
    throw new Error(describeJsonError(error, content));
  }
}

async function dataLoader(filepath: string, content: string): Promise<unknown> {
  if (content.trimStart().startsWith('{')) return jsonLoader(filepath, content);
  try {
    return await defaultLoaders.noExt(filepath, content);
  } catch (error) {
    const { reason, mark } = (error ?? {}) as { reason?: string; mark?: { line: number; column: number } };
    const where = mark ? ` at line ${mark.line + 1}, column ${mark.column + 1}` : '';
    throw new Error(`invalid YAML/JSON${where}${reason ? `: ${reason}` : ''}`);
  }
}

function describeJsonError(error: unknown, content: string): string {
  const message = error instanceof Error ? error.message : '';
  const reason = message.split(/, "| in JSON at| \(line /)[0] ?? '';
  const position = /at position (\d+)/.exec(message)?.[1];
  let where = '';
  if (position !== undefined) {
    const before = content.slice(0, Number(position)).split('\n');
    where = ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
  }
  return `invalid JSON${where}${reason ? `: ${reason}` : ''}`;
}

interface Found {
  config: unknown;
  filepath: string;
}

async function loadFile(explorer: Explorer, filepath: string): Promise<unknown> {
  const found = await guard(filepath, () => explorer.load(filepath));
  return found && !found.isEmpty ? found.config : {};
}

async function loadExplicit(explorer: Explorer, filepath: string): Promise<Found> {
  if (!(await exists(filepath))) throw new ConfigError('config file not found', { file: filepath });
  const found = await guard(filepath, () => explorer.load(filepath));
  if (!found || found.isEmpty) {
    throw new ConfigError('holds no llm-proxy configuration (empty, or no "llm-proxy" key)', { file: filepath });
  }
  return { config: found.config, filepath: found.filepath };
}

async function searchProject(explorer: Explorer, cwd: string, home: string): Promise<Found | undefined> {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const found = await guard(dir, () => explorer.search(dir));
    if (found && !found.isEmpty) return { config: found.config, filepath: found.filepath };
    if (dir === home || dirname(dir) === dir) return undefined;
  }
}

async function guard<T>(where: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const file = (error as { filepath?: unknown } | null)?.filepath;
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`could not load: ${reason}`, { file: typeof file === 'string' ? file : where });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
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
  let backends = config.backends ?? {};
  if (Object.keys(backends).length === 0) {
    backends = structuredClone(EMBEDDED_DEFAULT_CONFIG.backends);
    sources.push('embedded default');
  }
  const backend = activeBackend(config, backends, origin, ctx);

  const server = config.server ?? {};
  const defaults = CONFIG_DEFAULTS.server;
  return {
    backend,
    port: config.port ?? CONFIG_DEFAULTS.port,
    host: config.host ?? CONFIG_DEFAULTS.host,
    backends,
    plugins: await resolvePlugins(config.plugins ?? [], origin.get('plugins'), ctx),
    server: {
      bodyLimitBytes: server.bodyLimit === undefined ? defaults.bodyLimitBytes : (parseBodyLimit(server.bodyLimit) ?? defaults.bodyLimitBytes),
      pingIntervalMs: server.pingIntervalMs ?? defaults.pingIntervalMs,
      connectTimeoutMs: server.connectTimeoutMs ?? defaults.connectTimeoutMs,
      firstByteTimeoutMs: server.firstByteTimeoutMs ?? defaults.firstByteTimeoutMs,
      idleTimeoutMs: server.idleTimeoutMs ?? defaults.idleTimeoutMs,
      shutdownGraceMs: server.shutdownGraceMs ?? defaults.shutdownGraceMs,
    },
    auth: { keys: config.auth?.keys ?? [] },
    logLevel: config.logLevel ?? CONFIG_DEFAULTS.logLevel,
    logFormat: config.logFormat ?? CONFIG_DEFAULTS.logFormat,
    sources,
  };
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

// ---------------------------------------------------------------- plugins

interface FlatEntry {
  /** `plugins[2]`, `plugins[3][0]`: where the entry sits in the file. */
  field: string;
  entry: unknown;
}

function flattenPlugins(entries: readonly unknown[], prefix: string, out: FlatEntry[] = []): FlatEntry[] {
  entries.forEach((entry, i) => {
    const field = `${prefix}[${i}]`;
    if (!entry) return;
    if (Array.isArray(entry) && !isTuple(entry)) flattenPlugins(entry, field, out);
    else out.push({ field, entry });
  });
  return out;
}

/** `[name, options]` as opposed to a nested list such as `[pluginA(), 'b']`. */
function isTuple(entry: readonly unknown[]): boolean {
  const [name, options] = entry;
  if (entry.length !== 2 || typeof name !== 'string') return false;
  return !(typeof options === 'string' || options === false || Array.isArray(options) || isPlugin(options));
}

export function isPlugin(value: unknown): value is Plugin {
  return isRecord(value) && typeof value.name === 'string' && typeof value.apply === 'function';
}

async function resolvePlugins(entries: readonly PluginEntry[], layer: Layer | undefined, ctx: Context): Promise<Plugin[]> {
  const plugins: Plugin[] = [];
  const file = layer?.file;
  for (const { field, entry } of flattenPlugins(entries, 'plugins')) {
    if (isPlugin(entry)) {
      plugins.push(entry);
      continue;
    }
    const [name, options]: [unknown, unknown] = Array.isArray(entry) ? [entry[0], entry[1]] : [entry, undefined];
    if (typeof name !== 'string' || name === '') {
      throw new ConfigError('expected a plugin object, a module name or [name, options]', { file, field });
    }
    let plugin: unknown;
    try {
      plugin = await ctx.pluginResolver(name, options, layer?.dir ?? ctx.cwd);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
      throw new ConfigError(`could not load plugin "${name}": ${reason}`, { file, field });
    }
    if (!isPlugin(plugin)) {
      throw new ConfigError(`plugin "${name}" did not produce a plugin object (with "name" and "apply")`, { file, field });
    }
    plugins.push(plugin);
  }
  return plugins;
}

/**
 * Imports `name` resolved from `fromDir` and calls its default export (or named `plugin`)
 * with the options. `.ts` plugin files load through jiti; everything else through `import()`.
 */
export const defaultPluginResolver: PluginResolver = async (name, options, fromDir) => {
  const file = resolveModule(name, fromDir);
  const mod: unknown = /\.[cm]?ts$/.test(extname(file))
    ? await createJiti(file, { moduleCache: false }).import(file)
    : await import(pathToFileURL(file).href);
  const exported = isRecord(mod) ? (mod.default ?? mod.plugin) : undefined;
  const made: unknown = typeof exported === 'function' ? await (exported as (o: unknown) => unknown)(options) : exported;
  if (!isPlugin(made)) {
    throw new Error(`module "${name}" (${file}) has no plugin factory as its default or "plugin" export`);
  }
  return made;
};

function resolveModule(name: string, fromDir: string): string {
  const parent = join(fromDir, 'noop.js');
  try {
    return createRequire(parent).resolve(name);
  } catch {
    // ESM-only packages (an "exports" map without "require") need ESM resolution conditions.
    const url = createJiti(parent).esmResolve(name, { parentURL: pathToFileURL(parent).href, try: true });
    if (url) return url.startsWith('file:') ? fileURLToPath(url) : url;
    throw new Error(`cannot find module "${name}" from ${fromDir}`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
