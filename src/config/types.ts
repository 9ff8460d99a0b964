import type { ErrorType, StreamEvent } from '../anthropic/types.js';
import type { LogLevel } from '../logger.js';
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
  /** The server's port on the remote machine, e.g. 11434 (Ollama) or 8000 (vLLM). */
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
}

/** `url` is required unless a `tunnel` supplies it (`http://127.0.0.1:<localPort>`). */
export type UrlOrTunnel = { url: string } | { url?: string; tunnel: TunnelConfig };

/** The wire format of a self-hosted server; `ollama` needs the ollama plugin. */
export type ServerFormat = 'anthropic' | 'openai' | 'ollama';

export interface CerebrasBackendConfig extends BackendCommon {
  type: 'cerebras';
  apiKey?: string;
  apiUrl?: string;
}

export type OpenAIBackendConfig = BackendCommon &
  UrlOrTunnel & {
    type: 'openai';
    apiKey?: string;
    headers?: Record<string, string>;
  };

export interface AnthropicBackendConfig extends BackendCommon {
  type: 'anthropic';
  url?: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

/** With `format: "ollama"` a server backend takes Ollama's own options. */
type OllamaFormatFields = Pick<OllamaBackendConfig, 'numCtx' | 'keepAlive' | 'think' | 'loadTimeoutMs' | 'embedModel'>;

/** A server you run yourself, in one of the formats (`self-hosted`, `vast-ai`, a RunPod pod). */
interface ServerBackendFields extends OllamaFormatFields {
  format?: ServerFormat;
  apiKey?: string;
  headers?: Record<string, string>;
}

/** Format defaults to `anthropic`. */
export type SelfHostedBackendConfig = BackendCommon & UrlOrTunnel & ServerBackendFields & { type: 'self-hosted' };

/** A vast.ai instance: an open port (`url`) or a `tunnel`. Format defaults to `openai`; first-byte timeout 300 s (cold starts). */
export type VastAiBackendConfig = BackendCommon & UrlOrTunnel & ServerBackendFields & { type: 'vast-ai' };

/** A RunPod pod through RunPod's HTTPS proxy: `https://<podId>-<port>.proxy.runpod.net`. Format defaults to `openai`. */
export interface RunPodPodBackendConfig extends BackendCommon, ServerBackendFields {
  type: 'runpod';
  podId: string;
  /** The pod's exposed HTTP port. Default 8000 (vLLM's). */
  port?: number;
}

/** A RunPod serverless vLLM endpoint: `https://api.runpod.ai/v2/<endpointId>/openai/v1`, Bearer `RUNPOD_API_KEY`. */
export interface RunPodServerlessBackendConfig extends BackendCommon {
  type: 'runpod';
  endpointId: string;
  /** Default `$RUNPOD_API_KEY`. */
  apiKey?: string;
  headers?: Record<string, string>;
}

/** Ollama's native API (plugins/ollama). */
export interface OllamaBackendConfig extends BackendCommon {
  type: 'ollama';
  /** Default http://127.0.0.1:11434; a trailing /v1 or /api is ignored. */
  url?: string;
  /** Context window sent as options.num_ctx. Default 65536 (Ollama's own default truncates Claude Code's prompts). */
  numCtx?: number;
  /** keep_alive: "30m", seconds, or negative to keep the model loaded. */
  keepAlive?: string | number;
  /** Unset: follows the request's `thinking` when the model can think. */
  think?: boolean | 'low' | 'medium' | 'high';
  /** How long to wait for the first token while the model loads, ms. Default max(firstByteTimeoutMs, 300000). */
  loadTimeoutMs?: number;
  /** Model for embeddings (`/api/embed`); default `model`. */
  embedModel?: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

export interface ScriptedBackendConfig extends BackendCommon {
  type: 'scripted';
  /** Canned answers, used in order; the last one repeats. See src/plugins/scripted-provider.ts. */
  responses: ScriptedResponse[];
}

export type ScriptedResponse =
  | { text: string; stopReason?: 'end_turn' | 'max_tokens' }
  | { toolUse: { name: string; input: Record<string, unknown>; id?: string }; text?: string }
  | { events: StreamEvent[] }
  | { error: { status: number; type: ErrorType; message: string } };

/**
 * Every backend type and its config shape, by `type`. A provider plugin adds its own type by
 * declaration merging, so that a typo in its backends is a type error too:
 *
 * ```ts
 * declare module '@jleechan/llm-proxy-server' {
 *   interface BackendTypes { echo: EchoBackendConfig }
 * }
 * ```
 */
export interface BackendTypes {
  cerebras: CerebrasBackendConfig;
  openai: OpenAIBackendConfig;
  anthropic: AnthropicBackendConfig;
  'self-hosted': SelfHostedBackendConfig;
  'vast-ai': VastAiBackendConfig;
  runpod: RunPodPodBackendConfig | RunPodServerlessBackendConfig;
  ollama: OllamaBackendConfig;
  scripted: ScriptedBackendConfig;
}

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
  logLevel?: LogLevel;
  logFormat?: 'json' | 'pretty';
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
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  /** Where the config came from (files, `environment`, `embedded default`), for messages. */
  sources: string[];
  /** The project config file, if any (for watching and relative plugin paths). */
  filepath?: string;
}
