import type { ErrorType } from './anthropic/types.js';

const STATUS_BY_TYPE: Record<ErrorType, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Every code the proxy and its first-party plugins give a failure, one per kind of failure. */
export type ProxyErrorCode =
  | 'admin_forbidden'
  | 'backend_unavailable'
  | 'client_closed'
  | 'context_window_exceeded'
  | 'internal_error'
  | 'invalid_base_url'
  | 'invalid_client_key'
  | 'invalid_json'
  | 'invalid_options'
  | 'invalid_request'
  | 'model_lacks_thinking'
  | 'model_lacks_tools'
  | 'model_not_pulled'
  | 'no_backend'
  | 'no_embed_model'
  | 'no_route'
  | 'not_found'
  | 'request_too_large'
  | 'scripted_error'
  | 'shared_answer_failed'
  | 'too_deep'
  | 'tunnel_down'
  | 'unknown_backend'
  | 'unknown_model'
  | 'upstream_bad_response'
  | 'upstream_bad_stream'
  | 'upstream_disconnected'
  | 'upstream_empty'
  | 'upstream_error_body'
  | 'upstream_incomplete'
  | 'upstream_malformed'
  | 'upstream_not_api'
  | 'upstream_request_invalid'
  | 'upstream_stream_error'
  | 'upstream_timeout'
  | 'upstream_tls_error'
  | 'upstream_unreachable'
  /** An upstream's own non-2xx status, e.g. `upstream_429`. */
  | `upstream_${number}`;

/** Codes third-party plugins give their own failures, by declaration merging: `interface PluginErrorCodes { over_quota: true }`. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty on purpose: plugins fill it by declaration merging
export interface PluginErrorCodes {}

/**
 * Adding `only: 'declared'` here by declaration merging limits `ProxyError.code` to the codes
 * above; llm-proxy's own typecheck does (tests/support/error-code-policy.ts). Without it any
 * other string is accepted too, so plugins written before these unions compile unchanged.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty on purpose: a project opts in by declaration merging
export interface ErrorCodePolicy {}

export type ErrorCode =
  | keyof PluginErrorCodes
  | (ErrorCodePolicy extends { only: 'declared' } ? ProxyErrorCode : ProxyErrorCode | (string & NonNullable<unknown>));

export interface ProxyErrorOptions {
  /** Stable machine-readable code, e.g. `upstream_unreachable`. */
  code: ErrorCode;
  type: ErrorType;
  status?: number;
  /** Seconds the client should wait before retrying. */
  retryAfter?: number;
  /** What the user can do about it, e.g. `llm-proxy switch ollama`. */
  recommendations?: string[];
  /** The backend this error concerns, when one does. */
  backend?: string;
  /**
   * Whether a client retrying soon can succeed; the kernel sends it as `x-should-retry`. `false`
   * for what waits on a person (a server to start, a model to pull, a key, a daily quota), so
   * Claude Code shows the message at once instead of retrying for minutes. Unset: no header.
   */
  retryable?: boolean;
  /**
   * The upstream's own message, which the client is shown as it is instead of the proxy's
   * wording: Anthropic's API, whose messages Claude Code matches ("prompt is too long", the
   * context-limit numbers it retries with). The log keeps `message`.
   */
  upstreamMessage?: string;
  cause?: unknown;
}

/** The one error type every layer throws; the kernel turns it into Anthropic error JSON. */
export class ProxyError extends Error {
  readonly code: ErrorCode;
  readonly type: ErrorType;
  readonly status: number;
  readonly retryAfter: number | undefined;
  readonly recommendations: string[];
  readonly backend: string | undefined;
  readonly retryable: boolean | undefined;
  readonly upstreamMessage: string | undefined;
  /**
   * Set by a backend with several endpoints when the failure was one endpoint's and the others
   * still serve (a stream cut short): the backend's own circuit does not count it.
   */
  endpoint: string | undefined;

  constructor(message: string, options: ProxyErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProxyError';
    this.code = options.code;
    this.type = options.type;
    this.status = options.status ?? STATUS_BY_TYPE[options.type];
    this.retryAfter = options.retryAfter;
    this.recommendations = [...(options.recommendations ?? [])];
    this.backend = options.backend;
    this.retryable = options.retryable;
    this.upstreamMessage = options.upstreamMessage;
  }

  /** Adds advice (new lines only). `error` taps may do this; they never change status or type. */
  advise(...recommendations: string[]): void {
    for (const line of recommendations) if (!this.recommendations.includes(line)) this.recommendations.push(line);
  }

  /** The message a client sees: the reason followed by what to do (or the upstream's own, when kept). */
  clientMessage(): string {
    if (this.upstreamMessage !== undefined) return this.upstreamMessage;
    const prefix = this.backend ? `[llm-proxy: backend "${this.backend}"] ` : '[llm-proxy] ';
    const advice = this.recommendations.length ? ` What to do: ${this.recommendations.join('; ').replace(/\.$/, '')}.` : '';
    const message = advice && !/[.!?]$/.test(this.message) ? `${this.message}.` : this.message;
    return `${prefix}${message}${advice}`;
  }
}

export const invalidRequest = (message: string, code: ProxyErrorCode = 'invalid_request'): ProxyError =>
  new ProxyError(message, { code, type: 'invalid_request_error' });

/** Records which plugin and which hook threw, for logs; the client still sees the cause. */
export class PluginError extends Error {
  readonly plugin: string;
  readonly hook: string;
  constructor(plugin: string, hook: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`plugin "${plugin}" failed in hook "${hook}": ${reason}`, { cause });
    this.name = 'PluginError';
    this.plugin = plugin;
    this.hook = hook;
  }
}

/** A configuration problem, naming the file and the field. */
export class ConfigError extends Error {
  readonly file: string | undefined;
  readonly field: string | undefined;
  constructor(message: string, options: { file?: string; field?: string } = {}) {
    const where = [options.file, options.field].filter(Boolean).join(': ');
    super(where ? `${where}: ${message}` : message);
    this.name = 'ConfigError';
    this.file = options.file;
    this.field = options.field;
  }
}

/** Any thrown value as a ProxyError; unknown errors become a generic api_error (never a stack). */
export function toProxyError(error: unknown): ProxyError {
  if (error instanceof ProxyError) return error;
  if (error instanceof PluginError && error.cause !== undefined) {
    const inner = toProxyError(error.cause);
    if (inner.code !== 'internal_error') return inner;
  }
  return new ProxyError('Internal proxy error; see the proxy log for details.', {
    code: 'internal_error',
    type: 'api_error',
    cause: error,
  });
}
