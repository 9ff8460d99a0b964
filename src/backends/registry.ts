import { validateBackendOptions } from '../config/backend-options.js';
import { ConfigError } from '../errors.js';
import { redactUrl } from '../secrets/redact-url.js';
import { BalancedBackend } from './endpoints/balanced-backend.js';
import { Endpoint } from './endpoints/endpoint.js';
import type {
  Backend,
  BackendDecorator,
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
  readonly #decorators: BackendDecorator[] = [];
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

  decorate(decorator: BackendDecorator): void {
    this.#decorators.push(decorator);
  }

  async build(specs: readonly BackendSpec[], env: ProviderEnv, file?: string): Promise<void> {
    for (const original of specs) {
      const endpoints = endpointSpecs(original, file);
      if (endpoints) {
        const built = await Promise.all(endpoints.map(async (spec) => new Endpoint(spec.endpoint!, await this.#buildOne(spec, env, file), 5_000)));
        this.#backends.set(original.name, new BalancedBackend(original.name, built));
        this.#specs.set(original.name, original);
      } else {
        const spec = await this.#rewritten(original);
        this.#backends.set(spec.name, await this.#buildOne(spec, env, file, true));
        this.#specs.set(spec.name, spec);
      }
    }
    if (!this.#backends.has(this.#active)) {
      throw new ConfigError(`active backend "${this.#active}" is not defined (defined: ${this.names().join(', ')})`, {
        file,
        field: 'backend',
      });
    }
  }

  async #rewritten(original: BackendSpec): Promise<BackendSpec> {
    let spec = original;
    for (const rewrite of this.#rewriters) spec = await rewrite(spec);
    return spec;
  }

  async #buildOne(original: BackendSpec, env: ProviderEnv, file?: string, rewritten = false): Promise<Backend> {
    const spec = rewritten ? original : await this.#rewritten(original);
    const factory = this.#factories.get(spec.type);
    if (!factory) {
      const known = [...this.#factories.keys()].join(', ');
      throw new ConfigError(`unknown backend type "${spec.type}" (known: ${known}; a provider plugin adds more)`, {
        file,
        field: `backends.${spec.name}.type`,
      });
    }
    const located = spec.file || !file ? spec : { ...spec, file };
    let backend = factory(located, env);
    for (const decorate of this.#decorators) backend = decorate(backend, located);
    return backend;
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

/** A backend entry with `endpoints`: one spec per endpoint, each with that endpoint's `url` and `tunnel`. */
function endpointSpecs(spec: BackendSpec, file?: string): BackendSpec[] | undefined {
  const { endpoints, ...rest } = spec.options;
  if (endpoints === undefined) return undefined;
  const field = `backends.${spec.name}`;
  if (!Array.isArray(endpoints) || endpoints.length === 0) {
    throw new ConfigError('must be a list of URLs or { url, tunnel } entries', { file: spec.file ?? file, field: `${field}.endpoints` });
  }
  if (rest.url !== undefined || rest.tunnel !== undefined) {
    throw new ConfigError('give `endpoints` or `url` (and `tunnel`), not both', { file: spec.file ?? file, field: `${field}.url` });
  }
  const seen = new Set<string>();
  return endpoints.map((entry: unknown, i) => {
    const { url, tunnel } = typeof entry === 'string' ? { url: entry, tunnel: undefined } : ((entry ?? {}) as { url?: unknown; tunnel?: unknown });
    const options = { ...rest, ...(url === undefined ? {} : { url }), ...(tunnel === undefined ? {} : { tunnel }) };
    if (typeof url === 'string' && seen.has(url)) {
      throw new ConfigError(`lists ${redactUrl(url)} twice`, { file: spec.file ?? file, field: `${field}.endpoints[${i}]` });
    }
    if (typeof url === 'string') seen.add(url);
    return { ...spec, options, endpoint: typeof url === 'string' && url !== '' ? redactUrl(url) : `endpoints[${i}]${viaTunnel(tunnel)}` };
  });
}

/** ` (ssh user@host:port)` for an endpoint a tunnel supplies, so its label says which GPU it is. */
function viaTunnel(tunnel: unknown): string {
  if (typeof tunnel !== 'object' || tunnel === null) return '';
  const { host, user, port } = tunnel as { host?: unknown; user?: unknown; port?: unknown };
  return typeof host === 'string' ? ` (ssh ${typeof user === 'string' ? `${user}@` : ''}${host}${typeof port === 'number' ? `:${port}` : ''})` : '';
}
