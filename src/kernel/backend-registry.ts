import { ConfigError } from '../errors.js';
import type { Backend, BackendRegistry, BackendSpec, ProviderEnv, ProviderFactory, ProviderRegistry } from './types.js';

/** Provider types registered by plugins, and the backends built from the config with them. */
export class Backends implements BackendRegistry, ProviderRegistry {
  readonly #factories = new Map<string, ProviderFactory>();
  readonly #backends = new Map<string, Backend>();
  #active: string;

  constructor(active: string) {
    this.#active = active;
  }

  register(type: string, factory: ProviderFactory): void {
    if (this.#factories.has(type)) throw new Error(`provider type "${type}" is registered twice`);
    this.#factories.set(type, factory);
  }

  build(specs: readonly BackendSpec[], env: ProviderEnv, file?: string): void {
    for (const spec of specs) {
      const factory = this.#factories.get(spec.type);
      if (!factory) {
        const known = [...this.#factories.keys()].join(', ');
        throw new ConfigError(`unknown backend type "${spec.type}" (known: ${known}; a provider plugin adds more)`, {
          file,
          field: `backends.${spec.name}.type`,
        });
      }
      this.#backends.set(spec.name, factory(spec, env));
    }
    if (!this.#backends.has(this.#active)) {
      throw new ConfigError(`active backend "${this.#active}" is not defined (defined: ${this.names().join(', ')})`, {
        file,
        field: 'backend',
      });
    }
  }

  get(name: string): Backend | undefined {
    return this.#backends.get(name);
  }

  names(): string[] {
    return [...this.#backends.keys()];
  }

  get active(): string {
    return this.#active;
  }

  setActive(name: string): void {
    if (!this.#backends.has(name)) {
      throw new Error(`no backend named "${name}" (defined: ${this.names().join(', ')})`);
    }
    this.#active = name;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#backends.values()].map((b) => b.close?.()));
  }
}
