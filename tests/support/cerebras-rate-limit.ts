/** The Cerebras rate-limit headers. Resets are seconds; they are written as float strings. */
export interface CerebrasRateLimit {
  limitRequestsDay: number;
  remainingRequestsDay: number;
  limitTokensMinute: number;
  remainingTokensMinute: number;
  resetRequestsDay: number;
  resetTokensMinute: number;
}

export const defaultCerebrasRateLimit: Readonly<CerebrasRateLimit> = Object.freeze({
  limitRequestsDay: 14400,
  remainingRequestsDay: 14399,
  limitTokensMinute: 60000,
  remainingTokensMinute: 59000,
  resetRequestsDay: 33011.382867097855,
  resetTokensMinute: 11.382867097855,
});

/** The Cerebras `x-ratelimit-*` headers for these values. */
export function cerebrasRateLimitHeaders(values: CerebrasRateLimit): Record<string, string> {
  return {
    'x-ratelimit-limit-requests-day': String(values.limitRequestsDay),
    'x-ratelimit-remaining-requests-day': String(values.remainingRequestsDay),
    'x-ratelimit-limit-tokens-minute': String(values.limitTokensMinute),
    'x-ratelimit-remaining-tokens-minute': String(values.remainingTokensMinute),
    'x-ratelimit-reset-requests-day': floatString(values.resetRequestsDay),
    'x-ratelimit-reset-tokens-minute': floatString(values.resetTokensMinute),
  };
}

function floatString(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}
