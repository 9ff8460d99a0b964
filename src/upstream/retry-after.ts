const RESET_HEADER = /^x-ratelimit-reset(-[a-z0-9-]+)?$/;

/**
 * Seconds to wait, rounded up: `retry-after` (seconds or HTTP-date), `retry-after-ms`, else (unless
 * `resets: false`) the `x-ratelimit-reset-*` headers (seconds or durations like `1m30s`). When
 * several reset headers are present, the longest among the exhausted ones
 * (`x-ratelimit-remaining-*: 0`) wins, else the shortest.
 */
export function parseRetryAfter(headers: Record<string, string | undefined>, opts: { resets?: boolean } = {}): number | undefined {
  const lower: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) if (value !== undefined) lower[key.toLowerCase()] = value;

  const retryAfter = lower['retry-after']?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter));
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, Math.ceil((date - Date.now()) / 1000));
  }
  const retryAfterMs = lower['retry-after-ms']?.trim();
  if (retryAfterMs && /^\d+(\.\d+)?$/.test(retryAfterMs)) return Math.ceil(Number(retryAfterMs) / 1000);
  if (opts.resets === false) return undefined;

  const exhausted: number[] = [];
  const all: number[] = [];
  for (const [key, value] of Object.entries(lower)) {
    if (!RESET_HEADER.test(key)) continue;
    const seconds = parseDuration(value);
    if (seconds === undefined) continue;
    all.push(seconds);
    if (lower[key.replace('-reset', '-remaining')]?.trim() === '0') exhausted.push(seconds);
  }
  const chosen = exhausted.length ? Math.max(...exhausted) : all.length ? Math.min(...all) : undefined;
  return chosen === undefined ? undefined : Math.ceil(chosen);
}

const UNIT_SECONDS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 1e-3, us: 1e-6, 'µs': 1e-6, ns: 1e-9 };

/** `"12"`, `"1.5"`, `"1m30s"`, `"6ms"`, `"2h0m0.5s"` -> seconds; anything else -> undefined. */
export function parseDuration(text: string): number | undefined {
  const input = text.trim();
  if (/^\d+(\.\d+)?$/.test(input)) return Number(input);
  if (!/^(\d+(\.\d+)?(h|ms|m|s|us|µs|ns))+$/.test(input)) return undefined;
  let total = 0;
  for (const match of input.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    total += Number(match[1]) * (UNIT_SECONDS[match[2] ?? ''] ?? 0);
  }
  return total;
}
