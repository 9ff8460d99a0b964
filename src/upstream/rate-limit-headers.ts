import type { QuotaLimit, QuotaReport } from '../backends/types.js';
import type { ProxyContext } from '../kernel/types.js';
import { parseDuration, parseRetryAfter } from './retry-after.js';

type Headers = Readonly<Record<string, string | undefined>>;
type Field = 'limit' | 'remaining' | 'reset';

// `x-ratelimit-<field>-<resource>[-<window>]`: OpenAI's family (per minute, resets as durations
// like "6m0s"), and the per-minute / per-day variant some APIs send (resets in seconds).
const X_RATELIMIT = /^x-ratelimit-(limit|remaining|reset)-(requests|tokens)(?:-(minute|day))?$/;
// `anthropic-ratelimit-<resource>-<field>`: Anthropic's (per minute, resets as RFC 3339 times).
const ANTHROPIC_RATELIMIT = /^anthropic-ratelimit-(requests|tokens|input-tokens|output-tokens)-(limit|remaining|reset)$/;

/**
 * The rate limits a response's headers report, in one shape: the `x-ratelimit-*` family (with or
 * without a `-minute` / `-day` window), `anthropic-ratelimit-*`, `retry-after` and
 * `retry-after-ms`. Undefined when the response says nothing about limits.
 */
export function parseRateLimitHeaders(backend: string, status: number, headers: Headers, now = Date.now()): QuotaReport | undefined {
  const limits = new Map<string, QuotaLimit>();
  const at = (resource: QuotaLimit['resource'], window: QuotaLimit['window']): QuotaLimit => {
    const key = `${resource}/${window}`;
    let limit = limits.get(key);
    if (!limit) limits.set(key, (limit = { resource, window }));
    return limit;
  };
  for (const [rawName, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const name = rawName.toLowerCase();
    const x = X_RATELIMIT.exec(name);
    if (x) {
      const window = (x[3] ?? 'minute') as QuotaLimit['window'];
      set(at(x[2] as QuotaLimit['resource'], window), x[1] as Field, value, now, 'duration');
      continue;
    }
    const anthropic = ANTHROPIC_RATELIMIT.exec(name);
    if (anthropic) {
      const resource = anthropic[1]!.replace('-', '_') as QuotaLimit['resource'];
      set(at(resource, 'minute'), anthropic[2] as Field, value, now, 'time');
    }
  }
  const retryAfterSeconds = parseRetryAfter(headers, { resets: false });
  if (limits.size === 0 && retryAfterSeconds === undefined) return undefined;
  return {
    backend,
    status,
    limits: [...limits.values()],
    ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}),
    observedAt: now,
  };
}

function set(limit: QuotaLimit, field: Field, value: string, now: number, resets: 'duration' | 'time'): void {
  const text = value.trim();
  if (field !== 'reset') {
    const n = Number(text);
    if (text !== '' && Number.isFinite(n)) limit[field] = n;
    return;
  }
  if (resets === 'time') {
    const time = Date.parse(text);
    if (!Number.isNaN(time)) limit.resetAt = time;
    return;
  }
  const seconds = parseDuration(text);
  if (seconds !== undefined) limit.resetAt = now + Math.round(seconds * 1000);
}

/** Sets `ctx.quota` from a response's headers, when they say anything about limits (the rate-limit advisor reads it). */
export function reportQuota(ctx: ProxyContext, backend: string, response: { status: number; headers: Headers }): void {
  const report = parseRateLimitHeaders(backend, response.status, response.headers);
  if (report) ctx.quota = report;
}
