import { createRequire } from 'node:module';
import { extname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import type { Plugin } from '../kernel/types.js';
import { isRecord } from './is-record.js';
import type { PluginEntry } from './types.js';

/** Turns a plugin name (`[name, options]` or a bare name) into a plugin; `fromDir` is the config's folder. */
export type PluginResolver = (name: string, options: unknown, fromDir: string) => Promise<Plugin>;

/** Where a `plugins` list was configured: the file for messages, the folder relative names resolve from. */
export interface PluginOrigin {
  file: string | undefined;
  dir: string;
}

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

export async function resolvePlugins(entries: readonly PluginEntry[], origin: PluginOrigin, resolver: PluginResolver): Promise<Plugin[]> {
  const plugins: Plugin[] = [];
  const { file } = origin;
  for (const { field, entry } of flattenPlugins(entries, 'plugins')) {
    if (isPlugin(entry)) {
      plugins.push(entry);
      continue;
    }
    const pair: readonly unknown[] | undefined = Array.isArray(entry) ? entry : undefined;
    const [name, options]: [unknown, unknown] = pair ? [pair[0], pair[1]] : [entry, undefined];
    if (typeof name !== 'string' || name === '') {
      throw new ConfigError('expected a plugin object, a module name or [name, options]', { file, field });
    }
    let plugin: unknown;
    try {
      plugin = await resolver(name, options, origin.dir);
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
  const file = await resolveModule(name, fromDir);
  const mod: unknown = /\.[cm]?ts$/.test(extname(file))
    ? await (await loadJiti())(file, { moduleCache: false }).import(file)
    : await import(pathToFileURL(file).href);
  const exported = isRecord(mod) ? (mod.default ?? mod.plugin) : undefined;
  const made: unknown = typeof exported === 'function' ? await (exported as (o: unknown) => unknown)(options) : exported;
  if (!isPlugin(made)) {
    throw new Error(`module "${name}" (${file}) has no plugin factory as its default or "plugin" export`);
  }
  return made;
};

/** jiti is ~11 MB of RSS: loaded only for a plugin that needs it, never by a JSON config or the library. */
const loadJiti = async () => (await import('jiti')).createJiti;

async function resolveModule(name: string, fromDir: string): Promise<string> {
  const parent = join(fromDir, 'noop.js');
  try {
    return createRequire(parent).resolve(name);
  } catch {
    // ESM-only packages (an "exports" map without "require") need ESM resolution conditions.
    const url = (await loadJiti())(parent).esmResolve(name, { parentURL: pathToFileURL(parent).href, try: true });
    if (url) return url.startsWith('file:') ? fileURLToPath(url) : url;
    throw new Error(`cannot find module "${name}" from ${fromDir}`);
  }
}
