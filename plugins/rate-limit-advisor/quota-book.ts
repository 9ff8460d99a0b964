import type { QuotaLimit, QuotaReport } from '../../src/plugin.js';

/** What the advisor knows of one backend's limits: the latest value of each, as of now. */
export interface BackendQuota {
  backend: string;
  limits: QuotaLimit[];
  /** The status of the response that last reported limits. */
  lastStatus: number;
  observedAt: number;
}

/** The latest report of each limit per backend, kept in memory. A limit past its reset counts as refilled. */
export class QuotaBook {
  readonly #backends = new Map<string, { limits: Map<string, QuotaLimit>; lastStatus: number; observedAt: number }>();

  record(report: QuotaReport): void {
    let entry = this.#backends.get(report.backend);
    if (!entry) this.#backends.set(report.backend, (entry = { limits: new Map(), lastStatus: report.status, observedAt: report.observedAt }));
    if (report.observedAt < entry.observedAt) return;
    entry.lastStatus = report.status;
    entry.observedAt = report.observedAt;
    for (const limit of report.limits) {
      const key = `${limit.resource}/${limit.window}`;
      entry.limits.set(key, { ...entry.limits.get(key), ...limit });
    }
  }

  get(backend: string, now = Date.now()): BackendQuota | undefined {
    const entry = this.#backends.get(backend);
    if (!entry) return undefined;
    const limits = [...entry.limits.values()].map((limit) => refilled(limit, now));
    return { backend, limits, lastStatus: entry.lastStatus, observedAt: entry.observedAt };
  }

  /** The backend's entry as recorded (limits as reported, not refilled), for sharing with other proxies. */
  snapshot(backend: string): QuotaReport | undefined {
    const entry = this.#backends.get(backend);
    return entry && { backend, status: entry.lastStatus, limits: [...entry.limits.values()], observedAt: entry.observedAt };
  }

  backends(): string[] {
    return [...this.#backends.keys()];
  }
}

function refilled(limit: QuotaLimit, now: number): QuotaLimit {
  if (limit.resetAt === undefined || limit.resetAt > now) return limit;
  const { resetAt: _resetAt, ...rest } = limit;
  return { ...rest, ...(limit.limit !== undefined ? { remaining: limit.limit } : { remaining: undefined }) };
}

/** The limits used up now (remaining 0, not yet reset), the one that resets last first. */
export function exhausted(quota: BackendQuota | undefined, now = Date.now()): QuotaLimit[] {
  if (!quota) return [];
  return quota.limits
    .filter((limit) => limit.remaining === 0 && (limit.resetAt === undefined || limit.resetAt > now))
    .sort((a, b) => (b.resetAt ?? 0) - (a.resetAt ?? 0));
}

/** The fewest tokens any known token limit has left now (input tokens count too), if one is known. */
export function tokensLeft(quota: BackendQuota | undefined): number | undefined {
  const left = (quota?.limits ?? [])
    .filter((limit) => (limit.resource === 'tokens' || limit.resource === 'input_tokens') && limit.remaining !== undefined)
    .map((limit) => limit.remaining!);
  return left.length > 0 ? Math.min(...left) : undefined;
}
