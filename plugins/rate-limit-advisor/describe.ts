import { formatWait, type QuotaLimit } from '../../src/plugin.js';

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
  return `at ${new Date(limit.resetAt).toISOString().replace(/\.\d{3}Z$/, 'Z')} (in ${formatWait(seconds)})`;
}
