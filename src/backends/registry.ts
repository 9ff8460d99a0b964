import { validateBackendOptions } from '../config/backend-options.js';
import { ConfigError } from '../errors.js';
import type {
  Backend,
  BackendRegistry,
  BackendSpec,
  ProviderDefinition,
  ProviderEnv,
  ProviderFactory,
  ProviderRegistry,
  SpecRewriter,
} from '../kernel/types.js';

/** Provider types registered by plugins, and the backends built from the config with them. */
export class Backends implements BackendRegistry, ProviderRegistry {
  readonly #factories = new Map<string, ProviderFactory>();
  readonly #backends = new Map<string, Backend>();
  readonly #specs = new Map<string, BackendSpec>();
  readonly #rewriters: SpecRewriter[] = [];
  #active: string;

  constructor(active: string) {
    this.#active = active;
  }

  register<Options>(type: string, provider: ProviderDefinition<Options> | ProviderFactory): void {
    if (this.#factories.has(type)) throw new Error(`provider type "${type}" is registered twice`);
    this.#factories.set(type, typeof provider === 'function' ? provider : validating(provider));
  }

  factory(type: string): ProviderFactory | undefined {
    return this.#factories.get(type);
  }

  rewrite(rewriter: SpecRewriter): void {
    this.#rewriters.push(rewriter);
  }

  async build(specs: readonly BackendSpec[], env: ProviderEnv, file?: string): Promise<void> {
    for (const original of specs) {
      let spec = original;
      for (const rewrite of this.#rewriters) spec = await rewrite(spec);
      const factory = this.#factories.get(spec.type);
      if (!factory) {
        const known = [...this.#factories.keys()].join(', ');
        throw new ConfigError(`unknown backend type "${spec.type}" (known: ${known}; a provider plugin adds more)`, {
          file,
          field: `backends.${spec.name}.type`,
        });
      }
      this.#backends.set(spec.name, factory(spec.file || !file ? spec : { ...spec, file }, env));
      this.#specs.set(spec.name, spec);
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

  spec(name: string): BackendSpec | undefined {
    return this.#specs.get(name);
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
    await Promise.allSettled([...this.#backends.values()].map((b) => b.close?.() ?? Promise.resolve()));
  }
}

/** The factory of a provider with a schema: the entry is checked (once, at build) before `create` sees it. */
function validating<Options>(provider: ProviderDefinition<Options>): ProviderFactory {
  return (spec, env) => {
    const options = validateBackendOptions(provider.options, spec, (message) => env.logger.warn(message));
    return provider.create({ ...spec, options }, env);
  };
}
