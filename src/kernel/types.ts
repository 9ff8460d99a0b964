import type Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Message, MessagesRequest, StreamEvent, Usage } from '../anthropic/types.js';
import type { ProxyError } from '../errors.js';
import type { TapOnlyHooks } from './hooks.js';
import type { Logger } from '../logger.js';
import type { Backend, BackendRegistry, HealthState, ProviderRegistry, QuotaReport } from '../backends/types.js';

export type * from '../backends/types.js';

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

/** An attempt that failed before its first byte reached the client, and was followed by another. */
export interface FailedAttempt {
  backend: string;
  model: string;
  error: ProxyError;
  durationMs: number;
}

/**
 * What follows an attempt that failed before its first byte reached the client: the same
 * backend again or another one, after a wait. A `request` tap sets it on the context (the
 * failover plugin); without one, the first failure is the answer.
 */
export interface RetryPolicy {
  /** The next attempt, or undefined to give the client this error. */
  next(error: ProxyError, ctx: ProxyContext): { route: RouteDecision; delayMs: number } | undefined;
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
  /** `performance.now()` once the whole body had arrived: the proxy's own time counts from here (upload excluded). */
  readonly receivedAt: number;
  readonly log: Logger;
  route?: RouteDecision;
  /**
   * Set by a `request` tap to let a failed attempt be followed by another. While it is set the
   * proxy keeps the whole request until the answer's first event (a stream) or the whole answer.
   */
  retryPolicy?: RetryPolicy;
  /**
   * The attempts that failed and were followed by another, oldest first. The `error` hook sees
   * each of them (once it is in this list), then the final error, if any: taps that advise the
   * client skip the superseded ones (`isSuperseded(ctx, error)`).
   */
  readonly attempts: FailedAttempt[];
  cache: { status: CacheStatus; tier?: string; ageSeconds?: number };
  /** What the upstream's response said of the backend's rate limits; set by the provider, read by the rate-limit advisor. */
  quota?: QuotaReport;
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
  /** The answer's message id. */
  messageId?: string;
  usage?: Usage;
  stopReason?: string | null;
  error?: ProxyError;
  /** True when the stream reached `message_stop` (or a whole message was sent). */
  complete: boolean;
  /** A stream: ms from the whole body's arrival to its first event (time to first token, as the client sees it). */
  firstEventMs?: number;
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


export interface ServerSettings {
  bodyLimitBytes: number;
  pingIntervalMs: number;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  shutdownGraceMs: number;
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
  /** The `api` of a plugin this one lists in `optionalDependencies`, or undefined when that plugin is not in the config. */
  findApi<Name extends Extract<keyof PluginApis, string>>(name: Name): PluginApis[Name] | undefined;
}

export interface Plugin {
  name: string;
  enforce?: 'pre' | 'post';
  dependencies?: string[];
  /** Plugins this one uses when they are in the config (`findApi`); boot does not fail without them. */
  optionalDependencies?: string[];
  /** Values this plugin holds that must never appear in output (passwords, keys): masked in responses, health, status and logs. */
  secrets?: readonly string[];
  /** What this plugin offers the plugins that depend on it; its type is the one it adds to `PluginApis` under its name. */
  api?: unknown;
  apply(api: PluginApi): void | Promise<void>;
  /** Runs after every plugin applied and every backend was built. */
  ready?(): void | Promise<void>;
  close?(): void | Promise<void>;
}
