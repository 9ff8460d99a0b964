import type Router from '@koa/router';
import type { z } from 'zod';
import type { Middleware } from 'koa';
import type { Message, MessagesRequest, StreamEvent, Usage } from '../anthropic/types.js';
import type { ProxyError } from '../errors.js';
import type { TapOnlyHooks } from './hooks.js';
import type { Logger } from '../logger.js';

/** What a provider returns: a whole message, or a stream of Anthropic events. */
export type ProviderResponse =
  | { kind: 'message'; message: Message }
  | { kind: 'stream'; events: AsyncIterable<StreamEvent> };

/** Plugins extend this by declaration merging to keep typed per-request state. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty on purpose: plugins merge their fields into it
export interface ContextState {}

export type CacheStatus = 'hit' | 'miss' | 'semantic-hit' | 'bypass';

export interface CacheHit {
  status: Exclude<CacheStatus, 'miss' | 'bypass'>;
  /** Which tier answered, e.g. `memory`, `redis`. */
  tier: string;
  response: ProviderResponse;
  /** Seconds since the answer was stored. */
  ageSeconds: number;
}

export interface RouteDecision {
  backend: Backend;
  /** The model name sent upstream. */
  model: string;
}

/** The per-request object every hook receives. */
export interface ProxyContext {
  readonly id: string;
  readonly endpoint: 'messages' | 'count_tokens';
  /** The parsed request body; `transform` may replace it. */
  body: MessagesRequest;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Whether the client asked for a stream. */
  readonly stream: boolean;
  /** Aborted when the client disconnects. */
  readonly signal: AbortSignal;
  readonly startedAt: number;
  readonly log: Logger;
  route?: RouteDecision;
  cache: { status: CacheStatus; tier?: string; ageSeconds?: number };
  /** Extra response headers plugins want sent (e.g. `x-llm-proxy-cache`). */
  readonly responseHeaders: Record<string, string>;
  readonly state: ContextState;
}

/** The `transform` hook sees the request before it goes upstream and the response after. */
export type Exchange =
  | { phase: 'request'; body: MessagesRequest }
  | { phase: 'response'; response: ProviderResponse };

export interface Outcome {
  status: number;
  durationMs: number;
  backend?: string;
  model?: string;
  usage?: Usage;
  stopReason?: string | null;
  error?: ProxyError;
  /** True when the stream reached `message_stop` (or a whole message was sent). */
  complete: boolean;
}

export interface UpstreamCall {
  /** The request as the request and transform hooks left it; only its settings once taken. */
  readonly request: MessagesRequest;
  /**
   * The whole request, handed over to the provider: the proxy keeps only its settings (model,
   * max_tokens, stream, ...) from here on, so an open stream does not hold the ~130 KB a parsed
   * Claude Code request takes. Take it in the expression that builds the upstream body and turn
   * that into bytes there (the built-in providers: `json: encodeJson(translate(call.takeRequest()))`),
   * not into a named local: an async function keeps its locals until it returns, and invoke
   * returns only once the upstream answered. Without a take, the proxy lets go once invoke resolves.
   */
  takeRequest(): MessagesRequest;
  /** Upstream model name, already mapped by the router. */
  model: string;
  stream: boolean;
  signal: AbortSignal;
  context: ProxyContext;
}

export type HealthState = 'ok' | 'degraded' | 'down' | 'unknown';

export interface BackendHealth {
  status: HealthState;
  latencyMs?: number;
  detail?: string;
  models?: string[];
  warnings?: string[];
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
   * Whether the response cache keeps this backend's answers when its `cache` setting says nothing
   * (default true). False for backends whose answer is not a function of the request (`scripted`).
   */
  readonly cacheByDefault?: boolean;
  /** Vectors for texts, one per text in order (a semantic cache uses it); backends that can embed. */
  embed?(texts: string[], signal?: AbortSignal): Promise<number[][]>;
  close?(): Promise<void>;
  /** A description for `status`, free of secrets (URL without credentials, model). */
  describe(): Record<string, string | number | boolean | undefined>;
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

export interface ServerSettings {
  bodyLimitBytes: number;
  pingIntervalMs: number;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  shutdownGraceMs: number;
}

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
}

export interface BackendRegistry {
  get(name: string): Backend | undefined;
  /** The backend's config entry, for plugins that read their own per-backend settings (`cache`). */
  spec(name: string): BackendSpec | undefined;
  names(): string[];
  readonly active: string;
  setActive(name: string): void;
}

/** Sections plugins add to `GET /health` and `llm-proxy status` (cache tiers, tunnels, savings). */
export interface StatusRegistry {
  add(section: string, report: () => StatusSection | Promise<StatusSection>): void;
  collect(): Promise<Record<string, StatusSection>>;
}

export interface StatusSection {
  /** `down` makes /health say `degraded`; it never fails requests by itself. */
  status: HealthState;
  [detail: string]: unknown;
}

/**
 * What plugins offer each other, by plugin name (Rollup's `api`): a plugin that exposes an `api`
 * adds `name: ApiType` here by declaration merging, and a plugin that lists it in `dependencies`
 * gets that type from `getApi(name)`. The `cache` plugin adds `cache: CacheApi`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty on purpose: plugins fill it by declaration merging
export interface PluginApis {}

export interface PluginApi {
  hooks: TapOnlyHooks;
  logger: Logger;
  server: ServerSettings;
  providers: ProviderRegistry;
  backends: BackendRegistry;
  /** Extra HTTP endpoints (health, models, admin). */
  router: Router;
  /** Koa middleware that runs before every endpoint (client authentication). */
  use(middleware: Middleware): void;
  status: StatusRegistry;
  /**
   * The `api` of a plugin this one lists in `dependencies`, typed by `PluginApis`. Throws, naming
   * both plugins, when the name is not in `dependencies` or that plugin exposes no api.
   */
  getApi<Name extends Extract<keyof PluginApis, string>>(name: Name): PluginApis[Name];
}

export interface Plugin {
  name: string;
  enforce?: 'pre' | 'post';
  dependencies?: string[];
  /** Values this plugin holds that must never appear in output (passwords, keys): masked in responses, health, status and logs. */
  secrets?: readonly string[];
  /** What this plugin offers the plugins that depend on it; its type is the one it adds to `PluginApis` under its name. */
  api?: unknown;
  apply(api: PluginApi): void | Promise<void>;
  /** Runs after every plugin applied and every backend was built. */
  ready?(): void | Promise<void>;
  close?(): void | Promise<void>;
}
