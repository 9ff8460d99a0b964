import type { Hooks, HookName } from './hooks.js';
import { ProxyError, PluginError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Plugin, PluginApi, PluginApis } from './types.js';

const ORDER = { pre: 0, normal: 1, post: 2 } as const;

/** Sort by `enforce`, keeping declaration order within a group; fail at boot on bad sets. */
export function orderPlugins(plugins: readonly Plugin[]): Plugin[] {
  const seen = new Set<string>();
  for (const plugin of plugins) {
    if (!plugin || typeof plugin.name !== 'string' || typeof plugin.apply !== 'function') {
      throw new Error('every plugin must be an object with a `name` and an `apply(api)` function');
    }
    if (seen.has(plugin.name)) throw new Error(`plugin "${plugin.name}" is declared twice`);
    seen.add(plugin.name);
  }
  for (const plugin of plugins) {
    for (const dep of plugin.dependencies ?? []) {
      if (!seen.has(dep)) {
        throw new Error(`plugin "${plugin.name}" needs plugin "${dep}", which is not in the config`);
      }
    }
  }
  return [...plugins].sort((a, b) => ORDER[a.enforce ?? 'normal'] - ORDER[b.enforce ?? 'normal']);
}

/** The `api` of an optional dependency of `consumer`, or undefined when that plugin is not in the config. */
export function optionalApi<Name extends Extract<keyof PluginApis, string>>(
  plugins: readonly Plugin[],
  consumer: Plugin,
  name: Name,
): PluginApis[Name] | undefined {
  if (!consumer.optionalDependencies?.includes(name)) {
    throw new Error(`plugin "${consumer.name}" looks for the api of plugin "${name}" without listing "${name}" in its \`optionalDependencies\``);
  }
  const provider = plugins.find((plugin) => plugin.name === name);
  // The provider declares this type for its name in `PluginApis`.
  return provider?.api as PluginApis[Name] | undefined;
}

/** `consumer`'s view of the `api` of plugin `name`: only a declared dependency, and only one that exposes an api. */
export function dependencyApi<Name extends Extract<keyof PluginApis, string>>(plugins: readonly Plugin[], consumer: Plugin, name: Name): PluginApis[Name] {
  if (!consumer.dependencies?.includes(name)) {
    throw new Error(`plugin "${consumer.name}" asks for the api of plugin "${name}" without listing "${name}" in its \`dependencies\``);
  }
  const provider = plugins.find((plugin) => plugin.name === name);
  if (provider?.api === undefined) {
    throw new Error(`plugin "${consumer.name}" needs the api of plugin "${name}", which ${provider ? 'exposes none' : 'is not in the config'}`);
  }
  // The provider declares this type for its name in `PluginApis`.
  return provider.api as PluginApis[Name];
}

/**
 * Wrap every tap so a failure names its plugin and hook. ProxyErrors are intentional
 * (a validator rejecting a request) and pass through unchanged.
 */
export function attributeTapErrors(hooks: Hooks): void {
  for (const hookName of Object.keys(hooks) as HookName[]) {
    hooks[hookName].intercept({
      register(tap) {
        const fn = tap.fn as (...args: unknown[]) => unknown;
        const wrap = (error: unknown): never => {
          if (error instanceof ProxyError || error instanceof PluginError) throw error;
          throw new PluginError(tap.name, hookName, error);
        };
        tap.fn = (...args: unknown[]) => {
          try {
            const result = fn(...args);
            return result instanceof Promise ? result.catch(wrap) : result;
          } catch (error) {
            return wrap(error);
          }
        };
        return tap;
      },
    });
  }
}

export async function applyPlugins(plugins: readonly Plugin[], api: (plugin: Plugin) => PluginApi): Promise<void> {
  for (const plugin of plugins) {
    try {
      await plugin.apply(api(plugin));
    } catch (error) {
      throw new PluginError(plugin.name, 'apply', error);
    }
  }
}

export async function readyPlugins(plugins: readonly Plugin[]): Promise<void> {
  for (const plugin of plugins) {
    try {
      await plugin.ready?.();
    } catch (error) {
      throw new PluginError(plugin.name, 'ready', error);
    }
  }
}

/** Close in reverse order; one failing close never keeps the others open. */
export async function closePlugins(plugins: readonly Plugin[], logger: Logger): Promise<void> {
  for (const plugin of [...plugins].reverse()) {
    try {
      await plugin.close?.();
    } catch (error) {
      logger.warn('plugin close failed', { plugin: plugin.name, reason: (error as Error).message });
    }
  }
}
