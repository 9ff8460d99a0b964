/** What the last Cerebras response said of a backend's quota (the rate-limit advisor will read it through the plugin's api). */
export interface QuotaInfo {
  backend: string;
  requests?: { limit?: number; remaining?: number; resetSeconds?: number };
  tokens?: { limit?: number; remaining?: number; resetSeconds?: number };
  observedAt: number;
}

const num = (value: string | undefined): number | undefined => {
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
};

/**
 * Cerebras reports daily request and per-minute token budgets:
 * `x-ratelimit-{limit,remaining,reset}-requests-day` and `...-tokens-minute` (reset in seconds).
 */
export function parseCerebrasQuota(backend: string, headers: Readonly<Record<string, string>>): QuotaInfo | undefined {
  const requests = {
    limit: num(headers['x-ratelimit-limit-requests-day']),
    remaining: num(headers['x-ratelimit-remaining-requests-day']),
    resetSeconds: num(headers['x-ratelimit-reset-requests-day']),
  };
  const tokens = {
    limit: num(headers['x-ratelimit-limit-tokens-minute']),
    remaining: num(headers['x-ratelimit-remaining-tokens-minute']),
    resetSeconds: num(headers['x-ratelimit-reset-tokens-minute']),
  };
  const has = (q: typeof requests) => Object.values(q).some((v) => v !== undefined);
  if (!has(requests) && !has(tokens)) return undefined;
  return {
    backend,
    ...(has(requests) ? { requests } : {}),
    ...(has(tokens) ? { tokens } : {}),
    observedAt: Date.now(),
  };
}
