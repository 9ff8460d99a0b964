import type { ErrorType } from '../anthropic/types.js';
import { ProxyError } from '../errors.js';
import type { UpstreamResponse } from './http-client.js';
import { parseRateLimitHeaders } from './rate-limit-headers.js';
import { contextOverflow } from './context-overflow.js';
import { readBounded } from './read-bounded.js';
import { parseRetryAfter } from './retry-after.js';

const MAX_ERROR_BODY = 64 * 1024;
const MAX_MESSAGE = 500;

const ERROR_TYPES = new Set<string>([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
  'rate_limit_error',
  'api_error',
  'overloaded_error',
  'timeout_error',
]);

interface ParsedError {
  message: string;
  type?: string;
  code?: string;
  /** llama.cpp's context error says how much it got and has: `n_prompt_tokens`, `n_ctx`. */
  promptTokens?: number;
  contextSize?: number;
  /** The message of a JSON error body as it came, before it was flattened and clipped. */
  original?: string;
}

/** The statuses servers refuse a prompt that does not fit with (not 429: "too many tokens per minute" is a rate). */
const OVERFLOW_STATUSES = new Set([400, 413, 422]);

/**
 * Turns a non-2xx upstream response into a ProxyError. Reads at most 64 KB of the body and
 * discards the rest. For `anthropic` backends a recognised Anthropic error type in the body wins
 * over the status mapping where the status passes through (e.g. 400 `invalid_request_error`), and
 * `overloaded_error` is always a 529.
 *
 * The statuses are chosen for what Claude Code shows: it replaces the message of a 401/403 ("Please
 * run /login"), a 404 ("There's an issue with the selected model") and a 413 ("Request too large")
 * with its own text, so the backend's key and URL problems are a 502 (the proxy's credentials and
 * configuration, not the client's) and a model or size problem is a 400.
 */
export { parseDuration, parseRetryAfter } from './retry-after.js';

export async function errorFromUpstream(
  res: UpstreamResponse,
  opts: {
    backend: string;
    format: 'openai' | 'anthropic';
    /**
     * The client sees the upstream's message as it came (Anthropic's own API, whose wording Claude
     * Code matches), except for a rejected key: that is the proxy's, and its advice is the proxy's.
     */
    verbatim?: boolean;
  },
): Promise<ProxyError> {
  const parsed = parseErrorBody(await readBounded(res.body, MAX_ERROR_BODY));
  const status = res.status;
  const overflow = !opts.verbatim && OVERFLOW_STATUSES.has(status) ? contextOverflow(`${parsed.message} ${parsed.type ?? ''} ${parsed.code ?? ''}`, parsed) : undefined;
  if (overflow) {
    return new ProxyError(overflow.message, {
      code: `upstream_${status}`,
      type: 'invalid_request_error',
      status: 400,
      backend: opts.backend,
      retryable: false,
      recommendations: ["compact the conversation (/compact in Claude Code), or set the backend's contextWindow so the proxy refuses such requests before they are sent"],
    });
  }
  // Rate-limit reset headers come with every answer; they say when to retry only when limited.
  // (Claude Code waits at least `retry-after` before each retry: 12 s on a 500 before this.)
  let retryAfter = parseRetryAfter(res.headers, { resets: status === 429 || status === 503 || status === 529 });
  let { type, proxyStatus, recommendations, retryable } = classify(status, `${parsed.message} ${parsed.type ?? ''} ${parsed.code ?? ''}`);
  // A used-up daily limit: its true reset, hours away, so that Claude Code (which waits at most
  // 60 s for a retry-after) stops at once instead of retrying into the same wall.
  const daily = status === 429 ? usedUpDailyLimit(opts.backend, res.headers) : undefined;
  if (daily !== undefined) {
    retryable = false;
    retryAfter = daily;
    recommendations = ['the daily quota is used up: waiting will not help today; switch to another backend until it resets'];
  }
  if (opts.format === 'anthropic' && parsed.type && ERROR_TYPES.has(parsed.type) && parsed.type !== 'api_error') {
    if (parsed.type === 'overloaded_error') [type, proxyStatus, retryable] = ['overloaded_error', 529, true];
    else if (proxyStatus === status) type = parsed.type as ErrorType;
  }
  if (type === 'rate_limit_error' && retryAfter !== undefined && daily === undefined) {
    recommendations = [`wait ${retryAfter} s before retrying`, ...recommendations];
  }

  const label = [parsed.type, parsed.code].filter((part) => part && part !== String(status)).join('/');
  // Claude Code replaces any message naming `x-api-key` with advice about its own key.
  const detail = parsed.message ? `: ${parsed.message.replace(/x-api-key/gi, 'API key')}` : ' with an empty body';
  const verbatim = opts.verbatim && status !== 401 && status !== 403 && parsed.original !== undefined && !/x-api-key/i.test(parsed.original);
  return new ProxyError(`upstream returned HTTP ${status}${label ? ` (${label})` : ''}${detail}`, {
    code: `upstream_${status}`,
    type,
    status: proxyStatus,
    backend: opts.backend,
    recommendations,
    ...(verbatim ? { upstreamMessage: parsed.original } : {}),
    ...(retryable === undefined ? {} : { retryable }),
    ...(retryAfter === undefined ? {} : { retryAfter }),
  });
}

/** Seconds until a used-up per-day limit resets, when the headers report one. */
function usedUpDailyLimit(backend: string, headers: UpstreamResponse['headers']): number | undefined {
  const now = Date.now();
  const limit = parseRateLimitHeaders(backend, 429, headers, now)?.limits.find(
    (l) => l.window === 'day' && l.remaining === 0 && l.resetAt !== undefined && l.resetAt > now,
  );
  return limit?.resetAt === undefined ? undefined : Math.ceil((limit.resetAt - now) / 1000);
}

interface Classified {
  type: ErrorType;
  proxyStatus: number;
  recommendations: string[];
  retryable?: boolean;
}

/** A quota that resets tomorrow or needs money, not a per-minute limit. */
const LONG_QUOTA = /insufficient_quota|per[ _-]?day|daily|billing|credit/i;
const OVERLOADED = { type: 'overloaded_error', proxyStatus: 529, retryable: true, recommendations: ['the backend is overloaded; retry later'] } as const;

function classify(status: number, bodyText: string): Classified {
  switch (status) {
    case 401:
    case 403:
      return {
        type: 'api_error',
        proxyStatus: 502,
        retryable: false,
        recommendations: [
          "the backend rejected the proxy's API key: check the API key configured for this backend (its apiKey field or the environment variable it references)",
        ],
      };
    case 404:
      return /model/i.test(bodyText)
        ? { type: 'invalid_request_error', proxyStatus: 400, retryable: false, recommendations: ['check the model name: the backend does not serve it'] }
        : {
            type: 'api_error',
            proxyStatus: 502,
            retryable: false,
            recommendations: ['check the backend URL (including its path prefix, e.g. /v1) and the model name'],
          };
    case 408:
    case 504:
      return { type: 'timeout_error', proxyStatus: 504, retryable: true, recommendations: ['retry; the backend timed out'] };
    case 413:
      return {
        type: 'invalid_request_error',
        proxyStatus: 400,
        retryable: false,
        recommendations: [
          'shorten the conversation (e.g. /compact in Claude Code) or use a model with a larger context',
          'or raise the request size limit of the server in front of the backend (e.g. nginx client_max_body_size)',
        ],
      };
    case 429:
      return LONG_QUOTA.test(bodyText)
        ? { type: 'rate_limit_error', proxyStatus: 429, retryable: false, recommendations: ['switch to another backend until the quota resets'] }
        : { type: 'rate_limit_error', proxyStatus: 429, retryable: true, recommendations: ['slow down, or switch to another backend while the limit resets'] };
    case 529:
      return { ...OVERLOADED, recommendations: [...OVERLOADED.recommendations] };
    case 503:
      if (/overload|capacity/i.test(bodyText)) return { ...OVERLOADED, recommendations: [...OVERLOADED.recommendations] };
  }
  if (status >= 400 && status < 500) {
    // No retry header: Claude Code does not retry these, except the 400s it repairs and resends.
    return { type: 'invalid_request_error', proxyStatus: 400, recommendations: [] };
  }
  return {
    type: 'api_error',
    proxyStatus: 502,
    retryable: true,
    recommendations: ['retry; if it persists, check the backend status or logs'],
  };
}

function parseErrorBody(text: string): ParsedError {
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    try {
      const parsed = fromJSON(JSON.parse(trimmed) as unknown);
      if (parsed) return { ...parsed, message: clip(parsed.message), original: parsed.message };
    } catch {
      // Not JSON after all: fall through to text.
    }
  }
  return { message: clip(looksLikeHTML(trimmed) ? stripHTML(trimmed) : trimmed) };
}

function fromJSON(value: unknown): ParsedError | undefined {
  if (!isRecord(value)) return undefined;
  const inner = value.error;
  // Anthropic `{type:'error', error:{type,message}}` and OpenAI `{error:{message,type,code}}`.
  if (isRecord(inner)) return pick(inner) ?? pick(value);
  // A bare `{error:"..."}`.
  if (typeof inner === 'string') return { message: inner };
  // Flat `{message,type,param,code}` (vLLM and other OpenAI-compatible servers); FastAPI `{detail}`.
  const flat = pick(value);
  if (flat) return flat;
  if (typeof value.detail === 'string') return { message: value.detail };
  if (value.detail !== undefined) return { message: JSON.stringify(value.detail) };
  return undefined;
}

function pick(record: Record<string, unknown>): ParsedError | undefined {
  if (typeof record.message !== 'string') return undefined;
  const out: ParsedError = { message: record.message };
  if (typeof record.type === 'string' && record.type !== 'error') out.type = record.type;
  if (typeof record.code === 'string' || typeof record.code === 'number') out.code = String(record.code);
  if (typeof record.n_prompt_tokens === 'number') out.promptTokens = record.n_prompt_tokens;
  if (typeof record.n_ctx === 'number') out.contextSize = record.n_ctx;
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function looksLikeHTML(text: string): boolean {
  return /^<(!doctype|html|head|body)\b/i.test(text);
}

function stripHTML(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_MESSAGE ? `${flat.slice(0, MAX_MESSAGE)}…` : flat;
}

