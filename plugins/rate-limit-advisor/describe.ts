import type { QuotaLimit } from '../../src/plugin.js';

const RESOURCE: Record<QuotaLimit['resource'], string> = {
  requests: 'requests',
  tokens: 'tokens',
  input_tokens: 'input tokens',
  output_tokens: 'output tokens',
};

/** `requests per day (14400)`. */
export function limitName(limit: QuotaLimit): string {
  return `${RESOURCE[limit.resource]} per ${limit.window}${limit.limit !== undefined ? ` (${limit.limit})` : ''}`;
}

/** `at 2026-12-01T18:00:00Z (in 42 s)`, or an empty string when the reset is unknown. */
export function resetText(limit: QuotaLimit, now = Date.now()): string {
  if (limit.resetAt === undefined) return '';
  const seconds = Math.max(0, Math.ceil((limit.resetAt - now) / 1000));
  return `at ${new Date(limit.resetAt).toISOString().replace(/\.\d{3}Z$/, 'Z')} (in ${waitText(seconds)})`;
}

/** `42 s`, `12 min`, `9 h 10 min`. */
export function waitText(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.ceil(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
