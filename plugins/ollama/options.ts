import type { ModelMapping } from '../../src/config/types.js';
import { ConfigError } from '../../src/errors.js';
import type { BackendSpec, ServerSettings } from '../../src/kernel/types.js';
import { modelMappingOf, optionalNumber, optionalString, optionalStringRecord } from '../../src/plugin-kit/options.js';
import type { OllamaKeepAlive, OllamaThink } from './types.js';

export const OLLAMA_URL = 'http://127.0.0.1:11434';
/** Ollama's own default (2048-8192 tokens) silently truncates Claude Code's 20-30k-token prompts. */
export const DEFAULT_NUM_CTX = 65_536;
/** Loading a large model from disk takes minutes; Ollama sends nothing until the first token. */
export const MIN_LOAD_TIMEOUT_MS = 300_000;

export interface OllamaBackendOptions extends ModelMapping {
  name: string;
  /** Ollama's origin (and path prefix behind a reverse proxy), without `/v1` or `/api`. */
  url: string;
  numCtx: number;
  keepAlive?: OllamaKeepAlive;
  think?: OllamaThink;
  loadTimeoutMs: number;
  embedModel?: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Reached through an SSH tunnel (`tunnel` in its config): the ssh-tunnel plugin reports the tunnel's state. */
  tunneled?: boolean;
}

/** What Go's time.ParseDuration accepts: `30m`, `1h30m`, `-1s` (negative: never unload), `0`. */
const DURATION = /^-?(0|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/;
const THINK_LEVELS = new Set(['low', 'medium', 'high']);

/** Validates one `type: "ollama"` backend entry at start-up; errors name the field. */
export function parseOllamaOptions(spec: BackendSpec, server: ServerSettings, defaultUrl = OLLAMA_URL): OllamaBackendOptions {
  const at = `backends.${spec.name}`;
  const options = spec.options;
  const numCtx = optionalNumber(options, 'numCtx', at);
  if (numCtx !== undefined && !Number.isInteger(numCtx)) throw new ConfigError('must be a whole number of tokens', { field: `${at}.numCtx` });
  // The per-backend override every type accepts (presets set it for cold starts).
  const firstByte = optionalNumber(options, 'firstByteTimeoutMs', at);
  return {
    name: spec.name,
    url: ollamaBaseUrl(optionalString(options, 'url', at) ?? defaultUrl),
    ...modelMappingOf(options, at),
    numCtx: numCtx ?? DEFAULT_NUM_CTX,
    keepAlive: keepAliveOf(options.keepAlive, `${at}.keepAlive`),
    think: thinkOf(options.think, `${at}.think`),
    loadTimeoutMs: optionalNumber(options, 'loadTimeoutMs', at) ?? Math.max(firstByte ?? server.firstByteTimeoutMs, MIN_LOAD_TIMEOUT_MS),
    embedModel: optionalString(options, 'embedModel', at),
    apiKey: optionalString(options, 'apiKey', at),
    headers: optionalStringRecord(options, 'headers', at),
    tunneled: options.tunnel !== undefined,
  };
}

/** People paste the OpenAI-compatible URL (`.../v1`) or the API root (`.../api`); both mean the server. */
export function ollamaBaseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/(v1|api)$/, '');
}

function keepAliveOf(value: unknown, field: string): OllamaKeepAlive | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && DURATION.test(value.trim())) return value.trim();
  throw new ConfigError('must be a duration like "30m" or "1h", or a number of seconds (negative: keep loaded)', { field });
}

function thinkOf(value: unknown, field: string): OllamaThink | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  if (typeof value === 'string' && THINK_LEVELS.has(value)) return value as OllamaThink;
  throw new ConfigError('must be true, false, "low", "medium" or "high"', { field });
}
