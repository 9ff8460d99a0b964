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

export interface CerebrasBackendConfig extends ModelMapping {
  type: 'cerebras';
  apiKey?: string;
  apiUrl?: string;
}

export interface OpenAIBackendConfig extends ModelMapping {
  type: 'openai';
  url: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

export interface AnthropicBackendConfig extends ModelMapping {
  type: 'anthropic';
  url?: string;
  apiKey?: string;
  headers?: Record<string, string>;
}

export interface SelfHostedBackendConfig extends ModelMapping {
  type: 'self-hosted';
  url: string;
  format?: 'anthropic' | 'openai';
  apiKey?: string;
  headers?: Record<string, string>;
}

export interface ScriptedBackendConfig extends ModelMapping {
  type: 'scripted';
  /** Canned answers, used in order; the last one repeats. See src/plugins/scripted-provider.ts. */
  responses: ScriptedResponse[];
}

export type ScriptedResponse =
  | { text: string; stopReason?: 'end_turn' | 'max_tokens' }
  | { toolUse: { name: string; input: Record<string, unknown>; id?: string }; text?: string }
  | { events: import('../anthropic/types.js').StreamEvent[] }
  | { error: { status: number; type: import('../anthropic/types.js').ErrorType; message: string } };

/** A backend type contributed by a third-party provider plugin. */
export interface CustomBackendConfig extends ModelMapping {
  type: string;
  [option: string]: unknown;
}

export type BackendConfig =
  | CerebrasBackendConfig
  | OpenAIBackendConfig
  | AnthropicBackendConfig
  | SelfHostedBackendConfig
  | ScriptedBackendConfig
  | CustomBackendConfig;

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
  server: Required<Omit<ServerConfig, 'bodyLimit'>> & { bodyLimitBytes: number };
  auth: { keys: string[] };
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  /** Where the config came from (files, `environment`, `embedded default`), for messages. */
  sources: string[];
  /** The project config file, if any (for watching and relative plugin paths). */
  filepath?: string;
}
