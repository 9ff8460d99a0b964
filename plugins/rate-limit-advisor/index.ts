import {
  estimateInputTokens,
  isRecord,
  isSuperseded,
  parsePluginOptions,
  type Plugin,
  type PluginApis,
  type ProxyContext,
  type ProxyError,
  type QuotaLimit,
  type QuotaReport,
  type StatusSection,
} from '../../src/plugin.js';
import { limitName, resetText } from './describe.js';
import { rateLimitAdvisorOptions, type RateLimitAdvisorOptions } from './options.js';
import { redisSecrets, resolveRedisConnection } from '../redis-cache/options.js';
import type { RedisLink } from '../redis-cache/link.js';
import { exhausted, QuotaBook, tokensLeft, type BackendQuota } from './quota-book.js';

export { rateLimitAdvisorOptions, type RateLimitAdvisorOptions } from './options.js';
export type { BackendQuota } from './quota-book.js';

/** What the advisor offers the plugins that depend on it (the dashboard, failover). */
export interface RateLimitAdvisorApi {
  /** The backend's known limits as of now (a limit past its reset counts as refilled), if any response reported them. */
  quota(backend: string): BackendQuota | undefined;
  /**
   * Why the backend's known quota cannot serve this request (a used-up limit, or fewer tokens
   * left than its input estimate plus `max_tokens`), or undefined. Failover moves such a request on.
   */
  shortfall(backend: string, ctx: ProxyContext): string | undefined;
}

declare module '../../src/plugin.js' {
  interface PluginApis {
    'rate-limit-advisor': RateLimitAdvisorApi;
  }
}

/**
 * Keeps the rate limits each backend's responses report (`ctx.quota`, set by the providers),
 * warns before a request the known quota cannot cover, and says in a 429/529 which limit is used
 * up and when it resets.
 */
export function rateLimitAdvisor(options: RateLimitAdvisorOptions = {}): Plugin {
  const checked = parsePluginOptions('rate-limit-advisor', rateLimitAdvisorOptions, options);
  const warnBeforeRequest = checked.warnBeforeRequest ?? true;
  const syncIntervalMs = checked.syncIntervalMs ?? 2_000;
  const book = new QuotaBook();
  // Its own Redis, when the option names one; otherwise redis-cache's store, when configured.
  const connection = checked.redis === undefined ? undefined : resolveRedisConnection(checked.redis === true ? {} : checked.redis, 'plugins.rate-limit-advisor.redis');
  let link: RedisLink | undefined;
  let shared: SharedStore | undefined;
  let sync: NodeJS.Timeout | undefined;
  // The error and respond taps both see a failed request's report: it counts once.
  const recorded = new WeakSet<QuotaReport>();
  const record = (ctx: ProxyContext) => {
    const report = ctx.quota;
    if (!report || recorded.has(report)) return;
    recorded.add(report);
    book.record(report);
    if (shared) void share(shared, book, report.backend);
  };
  const api: RateLimitAdvisorApi = {
    quota: (backend) => book.get(backend),
    shortfall: (backend, ctx) => shortfallOf(ctx, book.get(backend), ctx.body.max_tokens),
  };
  return {
    name: 'rate-limit-advisor',
    optionalDependencies: ['redis-cache'],
    api,
    ...(connection ? { secrets: redisSecrets(connection) } : {}),
    async apply(kernel) {
      const { hooks, status, backends } = kernel;
      if (connection) {
        // Loaded only here: a proxy without Redis never loads ioredis.
        const [{ RedisLink }, { sharedStore }] = await Promise.all([import('../redis-cache/link.js'), import('../redis-cache/shared-store.js')]);
        const own = new RedisLink(connection, kernel.logger);
        link = own;
        shared = sharedStore(() => own);
      } else shared = kernel.findApi('redis-cache')?.shared;
      const store = shared;
      if (store) {
        // What other proxies in front of the same backends recorded; the newer report of a limit wins.
        const pull = async () => {
          for (const name of backends.names()) {
            const remote = parseShared(await store.get(`quota:${name}`), name);
            if (remote) book.record(remote);
          }
        };
        sync = setInterval(() => void pull(), syncIntervalMs);
        sync.unref();
      }
      if (warnBeforeRequest) {
        hooks.transform.tap({ name: 'rate-limit-advisor', stage: -50 }, (exchange, ctx) => {
          if (exchange.phase === 'request' && ctx.route) warnIfShort(ctx, book.get(ctx.route.backend.name), exchange.body.max_tokens);
          return exchange;
        });
      }
      hooks.error.tap('rate-limit-advisor', (ctx, error) => {
        record(ctx);
        if (error.backend !== undefined && (error.status === 429 || error.status === 529) && !isSuperseded(ctx, error)) advise(error, book.get(error.backend));
      });
      hooks.respond.tap('rate-limit-advisor', (ctx) => record(ctx));
      status.add('rate-limits', () => report(book));
    },
    async ready() {
      await link?.ready();
    },
    close() {
      clearInterval(sync);
      link?.close();
    },
  };
}

type SharedStore = PluginApis['redis-cache']['shared'];

/** Kept until the last known reset (at least a minute, at most two days). */
async function share(store: SharedStore, book: QuotaBook, backend: string): Promise<void> {
  const snapshot = book.snapshot(backend);
  if (!snapshot) return;
  const resets = snapshot.limits.map((limit) => limit.resetAt ?? 0);
  const ttlSeconds = Math.min(2 * 86_400, Math.max(60, (Math.max(0, ...resets) - Date.now()) / 1000));
  await store.set(`quota:${backend}`, JSON.stringify(snapshot), ttlSeconds);
}

/** A report another proxy shared, if it reads as one (anything else in Redis is ignored). */
function parseShared(text: string | undefined, backend: string): QuotaReport | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value) || value.backend !== backend || typeof value.observedAt !== 'number' || typeof value.status !== 'number') return undefined;
    if (!Array.isArray(value.limits)) return undefined;
    const limits = value.limits.filter(
      (limit): limit is QuotaLimit => isRecord(limit) && typeof limit.resource === 'string' && (limit.window === 'minute' || limit.window === 'day'),
    );
    return { backend, status: value.status, limits, observedAt: value.observedAt };
  } catch {
    return undefined;
  }
}

/** A warning (log line and `x-llm-proxy-warning`) when a used-up limit or the tokens left cannot serve this request. */
function warnIfShort(ctx: ProxyContext, quota: BackendQuota | undefined, maxTokens: number | undefined): void {
  const warning = shortfallOf(ctx, quota, maxTokens);
  if (warning === undefined || !quota) return;
  ctx.log.warn(warning, { backend: quota.backend });
  ctx.responseHeaders['x-llm-proxy-warning'] = warning;
}

function shortfallOf(ctx: ProxyContext, quota: BackendQuota | undefined, maxTokens: number | undefined): string | undefined {
  if (!quota) return undefined;
  const backend = quota.backend;
  const [spent] = exhausted(quota);
  if (spent) return `backend "${backend}" has used up its ${limitName(spent)}; it resets ${resetText(spent) || 'later'}`;
  const left = tokensLeft(quota);
  if (left === undefined) return undefined;
  // The estimate counts string characters, never more than the body's bytes: a body that
  // cannot come close is not walked (the ~100 KB of a Claude Code request).
  const bytes = Number(ctx.headers['content-length']);
  if (Number.isFinite(bytes) && left >= (maxTokens ?? 0) + Math.ceil(bytes / 4) + 1) return undefined;
  const needed = estimateInputTokens(ctx.body) + (maxTokens ?? 0);
  if (needed <= left) return undefined;
  return `backend "${backend}" has about ${left} tokens left in its current window; this request may need up to ${needed} (input estimate plus max_tokens)`;
}

/** Names the used-up limit and its reset; for a daily one, that waiting will not help today. */
function advise(error: ProxyError, quota: BackendQuota | undefined): void {
  const [spent] = exhausted(quota);
  if (!spent) return;
  const when = resetText(spent);
  const line = `${error.backend}'s ${limitName(spent)} is used up${when ? `; it resets ${when}` : ''}`;
  error.advise(spent.window === 'day' ? `${line}: waiting will not help today` : line);
}

/**
 * One line per backend, as `status` prints it: `requests per day (14400): 99 left, resets at ...
 * (in 8 h 20 min); tokens per minute (60000): 500 left, ...`. The api has the same as data.
 */
function report(book: QuotaBook): StatusSection {
  const now = Date.now();
  const backends = Object.fromEntries(book.backends().map((name) => [name, summary(book.get(name, now)!, now)]));
  const spent = book.backends().filter((name) => exhausted(book.get(name, now), now).length > 0);
  return { status: spent.length > 0 ? 'degraded' : 'ok', backends, ...(spent.length > 0 ? { exhausted: spent } : {}) };
}

/** The backend's known limits on one line (the advisor's own wording, also used by `llm-proxy recommend`). */
export function summary(quota: BackendQuota, now = Date.now()): string {
  return quota.limits
    .map((limit) => {
      const left = limit.remaining !== undefined ? `${limit.remaining} left` : 'left unknown';
      const reset = resetText(limit, now);
      return `${limitName(limit)}: ${left}${reset ? `, resets ${reset}` : ''}`;
    })
    .join('; ');
}

export default rateLimitAdvisor;
