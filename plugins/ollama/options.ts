import { backendOptions, booleanOption, headersOption, httpUrlOption, positiveInt, secretOption, z, type BackendEntryOf, type BackendSpec, type ServerSettings } from '../../src/plugin.js';
import type { OllamaKeepAlive, OllamaThink } from './types.js';

export const OLLAMA_URL = 'http://127.0.0.1:11434';
/** Ollama's own default (2048-8192 tokens) silently truncates Claude Code's 20-30k-token prompts. */
export const DEFAULT_NUM_CTX = 65_536;
/** Loading a large model from disk takes minutes; Ollama sends nothing until the first token. */
export const MIN_LOAD_TIMEOUT_MS = 300_000;

/** What Go's time.ParseDuration accepts: `30m`, `1h30m`, `-1s` (negative: never unload), `0`. */
const DURATION = /^-?(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/;

/** `["ollama", {...}]`: the plugin's own options (an unknown key is ignored). */
export const ollamaPluginOptions = z.object({
  /** Default URL for every `ollama` backend without its own `url`. Default `http://127.0.0.1:11434`. */
  url: httpUrlOption.optional(),
  /** At start, check that each backend's model is pulled and can call tools (warnings only). Default true. */
  checkModels: booleanOption.optional(),
});

export type OllamaPluginOptions = z.input<typeof ollamaPluginOptions>;

/** `type: "ollama"`: Ollama's native API. */
export const ollamaOptions = backendOptions({
  /** Default http://127.0.0.1:11434; a trailing /v1 or /api is ignored. */
  url: httpUrlOption.optional(),
  /** Context window sent as options.num_ctx. Default 65536 (Ollama's own default truncates Claude Code's prompts). */
  numCtx: z.number().int('must be a whole number of tokens').positive('must be a positive number').optional(),
  /** keep_alive: "30m", seconds, or negative to keep the model loaded. */
  keepAlive: z
    .union([z.number(), z.string().trim().regex(DURATION)], {
      error: 'must be a duration like "30m" or "1h", or a number of seconds (negative: keep loaded)',
    })
    .optional(),
  /** Unset: follows the request's `thinking` when the model can think. */
  think: z.union([z.boolean(), z.enum(['low', 'medium', 'high'])], { error: 'must be true, false, "low", "medium" or "high"' }).optional(),
  /** How long to wait for the first token while the model loads, ms. Default max(firstByteTimeoutMs, 300000). */
  loadTimeoutMs: positiveInt.optional(),
  /** Model for embeddings (`/api/embed`); default `model`. */
  embedModel: z.string().min(1).optional(),
  apiKey: secretOption.optional(),
  headers: headersOption.optional(),
});

export type OllamaOptions = z.output<typeof ollamaOptions>;

export interface OllamaBackendConfig extends BackendEntryOf<typeof ollamaOptions> {
  type: 'ollama';
}

declare module '../../src/plugin.js' {
  interface BackendTypes {
    ollama: OllamaBackendConfig;
  }
}

/** What an OllamaBackend runs with: the entry with its defaults filled in. */
export interface OllamaBackendOptions extends Omit<OllamaOptions, 'type' | 'tunnel' | 'cache' | 'url' | 'keepAlive' | 'think'> {
  name: string;
  /** Ollama's origin (and path prefix behind a reverse proxy), without `/v1` or `/api`. */
  url: string;
  numCtx: number;
  keepAlive?: OllamaKeepAlive;
  think?: OllamaThink;
  loadTimeoutMs: number;
  /** Reached through an SSH tunnel (`tunnel` in its config): the ssh-tunnel plugin reports the tunnel's state. */
  tunneled?: boolean;
}

/** Fills in the defaults of one checked `type: "ollama"` entry. */
export function ollamaBackendOptions(spec: BackendSpec<OllamaOptions>, server: ServerSettings, defaultUrl = OLLAMA_URL): OllamaBackendOptions {
  const { type: _type, tunnel, cache: _cache, url, numCtx, loadTimeoutMs, firstByteTimeoutMs, ...rest } = spec.options;
  return {
    ...rest,
    name: spec.name,
    url: ollamaBaseUrl(url ?? defaultUrl),
    numCtx: numCtx ?? DEFAULT_NUM_CTX,
    // The per-backend override every type accepts (presets set it for cold starts).
    loadTimeoutMs: loadTimeoutMs ?? Math.max(firstByteTimeoutMs ?? server.firstByteTimeoutMs, MIN_LOAD_TIMEOUT_MS),
    firstByteTimeoutMs,
    tunneled: tunnel !== undefined,
  };
}

/** People paste the OpenAI-compatible URL (`.../v1`) or the API root (`.../api`); both mean the server. */
export function ollamaBaseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/(v1|api)$/, '');
}
