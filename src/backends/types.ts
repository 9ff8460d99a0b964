import type { z } from 'zod';
import type { Logger } from '../logger.js';
import type { MessagesRequest } from '../anthropic/types.js';
import type { ProviderResponse, ServerSettings, UpstreamCall } from '../kernel/types.js';

// The contract between the kernel and the providers: what a backend is, how a provider type is
// registered, and the registry plugins read backends from.

export type HealthState = 'ok' | 'degraded' | 'down' | 'unknown';

export interface BackendHealth {
  status: HealthState;
  latencyMs?: number;
  detail?: string;
  models?: string[];
  warnings?: string[];
  /** A backend with several endpoints: each one's state. */
  endpoints?: EndpointHealth[];
}

/** What a backend's server says of one model. */
export interface ServedModel {
  /** Input plus output tokens the model takes in one request, as served (not as trained). */
  contextWindow?: number;
  /** Where it came from, for `status`: `"vLLM /v1/models max_model_len"`, `"Cerebras model table"`. */
  source?: string;
}

/** One endpoint of a backend with several (`endpoints: [...]`). */
export interface EndpointHealth {
  /** Its URL, without credentials. */
  url: string;
  status: HealthState;
  inFlight: number;
  latencyMs?: number;
  detail?: string;
}

/** A configured upstream, made by a provider factory from one `backends` entry. */
export interface Backend {
  readonly name: string;
  readonly type: string;
  /** Map the model the client asked for to an upstream model name. */
  resolveModel(requested: string): string;
  invoke(call: UpstreamCall): Promise<ProviderResponse>;
  health(signal?: AbortSignal): Promise<BackendHealth>;
  listModels?(signal?: AbortSignal): Promise<string[]>;
  /**
   * What the server says of a model it serves (vLLM's `max_model_len`, llama.cpp's `n_ctx`,
   * Ollama's context length and the `num_ctx` the proxy sends): read by the context-window plugin.
   */
  modelInfo?(model: string, signal?: AbortSignal): Promise<ServedModel>;
  /**
   * The request's input tokens as the server's own tokenizer counts them, or undefined when this
   * server cannot count (the caller estimates). Rejects when the server refused the request.
   */
  countTokens?(request: MessagesRequest, model: string, signal?: AbortSignal): Promise<number | undefined>;
  /**
   * Whether the response cache keeps this backend's answers when its `cache` setting says nothing
   * (default true). False for backends whose answer is not a function of the request (`scripted`).
   */
  readonly cacheByDefault?: boolean;
  /**
   * True for Anthropic's own API (an `anthropic` backend at api.anthropic.com, or one whose entry
   * says `server: "anthropic-api"`): it accepts every field and beta Claude Code sends and runs
   * server tools. Anything else that speaks the Messages API (vLLM, Ollama, llama.cpp, LiteLLM) is not.
   */
  readonly isAnthropicApi?: boolean;
  /** Vectors for texts, one per text in order (a semantic cache uses it); backends that can embed. */
  embed?(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  close?(): Promise<void>;
  /** A description for `status`, free of secrets (URL without credentials, model). */
  describe(): Record<string, string | number | boolean | undefined>;
  /** A backend with several `endpoints`: each one's live state, for /health and for sharing it between proxies. */
  readonly endpoints?: readonly BackendEndpoint[];
}

/** What another proxy needs to know of one endpoint: whether it takes requests, and since when. */
export interface SharedEndpointState {
  state: 'up' | 'down';
  /** When it last went up or down, epoch ms: the newer change wins. */
  changedAt: number;
  /** While down: when it is probed again, epoch ms. */
  retryAt: number;
  consecutiveFailures: number;
}

/** One endpoint of a backend with several, as plugins see it. */
export interface BackendEndpoint {
  readonly label: string;
  readonly state: 'up' | 'down';
  readonly inFlight: number;
  readonly lastFailure?: string;
  readonly changedAt: number;
  shared(): SharedEndpointState;
  /** Takes another proxy's state when it changed later than this one's. */
  adopt(remote: SharedEndpointState): void;
}

export interface BackendSpec<Options = Readonly<Record<string, unknown>>> {
  name: string;
  type: string;
  /**
   * The backend entry from the config, with `${VAR}` already interpolated: as its provider's
   * `options` schema parsed it (defaults applied, unknown keys dropped), or as written when the
   * provider registered no schema.
   */
  options: Options;
  /** The config file (or `environment`) the entry came from, named in configuration errors. */
  file?: string;
  /**
   * For one endpoint of a backend with several: which one (its URL as configured, or
   * `endpoints[<i>] (ssh user@host:port)` for one a tunnel supplies). Its `options` have that endpoint's `url` and `tunnel`.
   */
  endpoint?: string;
}

export interface ProviderEnv {
  logger: Logger;
  server: ServerSettings;
}

export type ProviderFactory = (spec: BackendSpec, env: ProviderEnv) => Backend;

/**
 * A backend type: the schema of its config entries and the factory that builds a backend from
 * one. The schema is the one source of the entry's shape: the config checks entries against it
 * (errors name `backends.<name>.<field>`), and the provider's `BackendTypes` entry is its type.
 */
export interface ProviderDefinition<Options> {
  /** A zod schema of the whole entry (`backendOptions({...})` adds the keys every type accepts). */
  options: z.ZodType<Options>;
  create(spec: BackendSpec<Options>, env: ProviderEnv): Backend;
}

/** Returns the spec a backend is built from; e.g. `ssh-tunnel` points `url` at its local port. */
export type SpecRewriter = (spec: BackendSpec) => BackendSpec | Promise<BackendSpec>;


export interface ProviderRegistry {
  /** Adds a backend type; a bare factory (no schema) gets each entry as written. */
  register<Options>(type: string, provider: ProviderDefinition<Options> | ProviderFactory): void;
  /**
   * A registered type's factory, validating the entry against that type's schema first, for
   * providers that delegate (presets); complete once every plugin applied.
   */
  factory(type: string): ProviderFactory | undefined;
  /** Rewrite every backend's spec before it is built; rewriters run in plugin order. */
  rewrite(rewriter: SpecRewriter): void;
  /**
   * Wrap every backend once built (each endpoint of a backend with several, one by one), e.g.
   * `ssh-tunnel` waits for the tunnel before a request. Decorators run in plugin order.
   */
  decorate(decorator: BackendDecorator): void;
}

/** Returns the backend to use for `spec`: the one built, or one wrapping it. */
export type BackendDecorator = (backend: Backend, spec: BackendSpec) => Backend;

export interface BackendRegistry {
  get(name: string): Backend | undefined;
  /** The backend's config entry, for plugins that read their own per-backend settings (`cache`). */
  spec(name: string): BackendSpec | undefined;
  names(): string[];
  readonly active: string;
  setActive(name: string): void;
}

/** One rate limit a response reported: how much of a resource is left in a window, and when it refills. */
export interface QuotaLimit {
  resource: 'requests' | 'tokens' | 'input_tokens' | 'output_tokens';
  window: 'minute' | 'day';
  limit?: number;
  remaining?: number;
  /** When the window refills, epoch ms. */
  resetAt?: number;
}

/**
 * What one upstream response said of the backend's rate limits, in the provider's own dialect
 * turned into one shape (`parseRateLimitHeaders` reads the common ones). The provider sets it on
 * `ctx.quota`; the rate-limit advisor keeps it per backend.
 */
export interface QuotaReport {
  backend: string;
  /** The upstream status it came with (200, 429, 529, ...). */
  status: number;
  limits: QuotaLimit[];
  /** `retry-after` / `retry-after-ms`, seconds. */
  retryAfterSeconds?: number;
  observedAt: number;
}
