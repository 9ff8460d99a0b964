import type { LogFormat, LogLevel } from '../logger.js';
import type { Plugin } from '../kernel/types.js';

/** Model mapping shared by every backend type. */
export interface ModelMapping {
  /** The upstream model for every request. */
  model?: string;
  /** Glob (`*haiku*`) -> upstream model; first match wins, before `model`. */
  models?: Record<string, string>;
  /** Cap on `max_tokens` sent upstream. */
  maxTokens?: number;
}

/**
 * An SSH tunnel the `ssh-tunnel` plugin keeps open for a backend: `ssh -N -L
 * 127.0.0.1:<localPort>:<remoteHost>:<remotePort> -p <port> user@host`, host keys checked
 * (`StrictHostKeyChecking=accept-new` at most). The backend's `url` then points at the local end.
 */
export interface TunnelConfig {
  host: string;
  /** SSH port. Default 22. */
  port?: number;
  user: string;
  /** Private key (`-i`); without it ssh uses the agent and ~/.ssh. */
  identityFile?: string;
  /** `UserKnownHostsFile`; default ssh's own (~/.ssh/known_hosts). */
  knownHostsFile?: string;
  /** The server's port on the remote machine, e.g. 8000 (vLLM). */
  remotePort: number;
  /** Where the remote end connects. Default `127.0.0.1`. */
  remoteHost?: string;
  /** Local port; default the port of `url`, else a free one chosen at start. */
  localPort?: number;
  /** How long a request waits for the tunnel to come up before a 502, ms. Default 30000. */
  readyTimeoutMs?: number;
}

/** Options every backend type accepts. */
export interface BackendCommon extends ModelMapping {
  tunnel?: TunnelConfig;
  /** This backend's time until the upstream's response headers, ms (overrides `server.firstByteTimeoutMs`). */
  firstByteTimeoutMs?: number;
  /** Cache answers from this backend (default true; `scripted`: false), and for how long. */
  cache?: boolean | { enabled?: boolean; ttlSeconds?: number };
  /** With `failover: "auto"`: the backends to try, in order, when this one fails before answering. */
  fallback?: string[];
  /**
   * Input plus output tokens the model takes in one request, as served. Default: what the server
   * says (vLLM's `max_model_len`, llama.cpp's `n_ctx`, Ollama's `num_ctx`), else none is checked.
   */
  contextWindow?: number;
  /**
   * Several servers of the same model, instead of `url`: requests go to the least busy one that
   * is up, a Claude Code session's requests to the same one (its prompt cache stays warm).
   */
  endpoints?: EndpointEntry[];
}

/** One of a backend's `endpoints`: its URL, or a URL (or none) and the tunnel that reaches it. */
export type EndpointEntry = string | { url?: string; tunnel?: TunnelConfig };

/** `url` is required unless a `tunnel` supplies it (`http://127.0.0.1:<localPort>`) or the backend has `endpoints`. */
export type UrlOrTunnel = { url: string } | { url?: string; tunnel: TunnelConfig } | { url?: undefined; tunnel?: undefined; endpoints: EndpointEntry[] };

/**
 * Every backend type and its config shape, by `type`. Each provider plugin adds its own type by
 * declaration merging, from the schema it registers, so that a typo in a backend entry is a
 * type error too (the built-in providers do the same, in their folders):
 *
 * ```ts
 * declare module '@jleechan/llm-proxy-server' {
 *   interface BackendTypes { echo: EchoBackendConfig }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty on purpose: provider plugins fill it by declaration merging
export interface BackendTypes {}

/** One backend entry: the config shape of one of the `BackendTypes`. */
export type BackendConfig = BackendTypes[keyof BackendTypes];

/** `[name, options]`, a plugin object, a bare name, nested arrays, or falsy (`cond && plugin()`). */
export type PluginEntry =
  | Plugin
  | string
  | readonly [string, unknown?]
  | false
  | null
  | undefined
  | readonly PluginEntry[];

export interface ServerConfig {
  /** Largest request body accepted: bytes, or a string like `32mb`. Default 32 MB. */
  bodyLimit?: number | string;
  /** Ping interval on a silent upstream stream, ms. Default 10000. */
  pingIntervalMs?: number;
  connectTimeoutMs?: number;
  /** Time allowed until the upstream's response headers, ms. Default 120000 (models load slowly). */
  firstByteTimeoutMs?: number;
  /** Longest silence inside an upstream body, ms. Default 300000. */
  idleTimeoutMs?: number;
  /** How long shutdown waits for open streams, ms. Default 10000. */
  shutdownGraceMs?: number;
}

/**
 * What the proxy does when a backend fails before its answer started: `off` (the error alone),
 * `explicit` (the default: the error says which backends answer now and how to switch), `auto`
 * (retry the same backend with backoff, then move along its `fallback` list).
 */
export type FailoverMode = 'off' | 'explicit' | 'auto';

export interface FailoverSettings {
  mode?: FailoverMode;
  /** Attempts on the same backend after the first, for a transient failure (connection, 5xx, 529, a short 429). Default 2. */
  retries?: number;
  /** The first backoff, ms, doubled each retry with full jitter. Default 250. */
  baseDelayMs?: number;
  /** The longest backoff, ms. Default 4000. */
  maxDelayMs?: number;
  /** No attempt starts later than this after the request arrived, ms. Default 30000. */
  deadlineMs?: number;
  /** The longest `retry-after` the proxy waits out on the same backend before moving on, ms. Default 10000. */
  maxRetryAfterMs?: number;
}

/** What a user writes (llm-proxy.config.ts, .llmrc.json, ...). */
export interface UserConfig {
  /** The active backend. */
  backend?: string;
  port?: number | 'auto';
  host?: string;
  backends?: Record<string, BackendConfig>;
  plugins?: PluginEntry[];
  server?: ServerConfig;
  auth?: { keys?: string[] };
  failover?: FailoverMode | FailoverSettings;
  logLevel?: LogLevel;
  /** Default `auto`: `pretty` when stderr is a terminal, `json` when it is not. */
  logFormat?: LogFormat;
  /** Every log line is also appended here as JSON (mode 0600); `~/` is the home directory, a relative path starts at the config file. */
  logFile?: string;
}

/** The config after loading, merging, interpolation and validation: what the kernel runs. */
export interface ResolvedConfig {
  backend: string;
  port: number | 'auto';
  host: string;
  backends: Record<string, BackendConfig>;
  /** Instantiated plugins from the config, in order (defaults are added by the kernel). */
  plugins: Plugin[];
  /** Secrets found in the options of `[name, options]` plugin entries, which the plugin objects do not keep: masked in every output. */
  pluginSecrets?: string[];
  server: Required<Omit<ServerConfig, 'bodyLimit'>> & { bodyLimitBytes: number };
  auth: { keys: string[] };
  /** Default `{ mode: 'explicit' }`. */
  failover?: FailoverSettings;
  logLevel: LogLevel;
  logFormat: LogFormat;
  /** Absolute. */
  logFile?: string;
  /** Where the config came from (files, `environment`, `embedded default`), for messages. */
  sources: string[];
  /** The project config file, if any (for watching and relative plugin paths). */
  filepath?: string;
  /** The file (or `environment`) each backend entry came from, named when its provider finds it invalid. */
  backendFiles?: Record<string, string>;
}
