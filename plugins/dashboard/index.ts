import type { Context as KoaContext } from 'koa';
import { ProxyError, parsePluginOptions, type Outcome, type Plugin, type PluginApi, type ProxyContext } from '../../src/plugin.js';
import { checkAction, mayAct } from './guard.js';
import { RequestLog, Timeline, type RequestRow } from './history.js';
import { dashboardOptions, type DashboardOptions } from './options.js';
import { servePage } from './page.js';

export { dashboardOptions, type DashboardOptions } from './options.js';
export type { RequestRow, MinutePoint } from './history.js';

const MAX_ACTION_BYTES = 4096;

const invalidRequest = (message: string) => new ProxyError(message, { code: 'invalid_request', type: 'invalid_request_error' });

/**
 * First-party: the data of the dashboard (issue 11) — the backends and their endpoints, quotas,
 * the cache and what it saved, the last requests and per-minute history, as JSON
 * (`GET /ui/api/state`) and live (`GET /ui/api/events`, server-sent events) — and its actions
 * (switch the backend, clear the cache). It reads the other plugins through their apis; on the
 * request path it only writes a row into a fixed ring and a minute bucket.
 */
export function dashboard(options: DashboardOptions = {}): Plugin {
  const checked = parsePluginOptions('dashboard', dashboardOptions, options);
  const log = new RequestLog(checked.requests ?? 100);
  const timeline = new Timeline(checked.windowMinutes ?? 60);
  const refreshMs = checked.refreshMs ?? 2000;
  return {
    name: 'dashboard',
    api: { enabled: checked.enabled !== false },
    optionalDependencies: ['health-endpoint', 'rate-limit-advisor', 'cache'],
    apply(kernel) {
      if (checked.enabled === false) return;
      kernel.hooks.respond.tap('dashboard', (ctx, outcome) => {
        const row = rowOf(ctx, outcome);
        log.add(row);
        timeline.add(row);
      });
      const snapshot = (koa: KoaContext) => state(kernel, log, timeline, mayAct(koa));
      const { router } = kernel;
      servePage(router);
      router.get('/ui/api/state', async (koa) => {
        koa.set('cache-control', 'no-store');
        koa.body = await snapshot(koa);
      });
      router.get('/ui/api/events', async (koa) => {
        koa.respond = false;
        const res = koa.res;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        let closed = false;
        const send = async () => {
          if (closed) return;
          res.write(`event: state\ndata: ${JSON.stringify(await snapshot(koa))}\n\n`);
        };
        const timer = setInterval(() => void send().catch(() => undefined), refreshMs);
        koa.req.once('close', () => {
          closed = true;
          clearInterval(timer);
        });
        await send();
      });
      router.post('/ui/api/switch', async (koa) => {
        act(koa);
        const { backend } = await readAction(koa);
        const { backends, logger } = kernel;
        if (typeof backend !== 'string' || !backends.get(backend)) {
          throw new ProxyError(`No backend named ${JSON.stringify(backend)}. Defined: ${backends.names().join(', ')}.`, { code: 'unknown_backend', type: 'not_found_error' });
        }
        const previous = backends.active;
        backends.setActive(backend);
        logger.info(`dashboard: switched active backend ${previous} -> ${backend}`);
        koa.body = { active: backend, previous };
      });
      router.post('/ui/api/cache/clear', async (koa) => {
        act(koa);
        await readAction(koa);
        const cache = kernel.findApi('cache');
        const cleared = cache ? await cache.clear() : [];
        kernel.logger.info(`dashboard: cleared the cache${cleared.length > 0 ? ` (${cleared.join(', ')})` : ''}`);
        koa.body = { cleared };
      });
    },
  };
}

function act(koa: KoaContext): void {
  checkAction(koa);
  if (!mayAct(koa)) throw new ProxyError('Dashboard actions need a loopback client or a client key.', { code: 'admin_forbidden', type: 'permission_error', status: 403 });
}

async function readAction(koa: KoaContext): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of koa.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ACTION_BYTES) throw invalidRequest(`a dashboard action's body is at most ${MAX_ACTION_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw invalidRequest('a dashboard action\'s body is a JSON object, e.g. {"backend": "<name>"}');
}

function rowOf(ctx: ProxyContext, outcome: Outcome): RequestRow {
  return {
    at: Date.now(),
    id: ctx.id,
    backend: outcome.backend ?? ctx.route?.backend.name,
    endpoint: ctx.responseHeaders['x-llm-proxy-endpoint'],
    model: outcome.model ?? ctx.route?.model,
    cache: ctx.cache.status,
    tier: ctx.cache.tier,
    status: outcome.error?.status ?? outcome.status,
    stream: ctx.stream,
    ttftMs: outcome.firstEventMs === undefined ? undefined : Math.round(outcome.firstEventMs),
    durationMs: outcome.durationMs,
    inputTokens: outcome.usage?.input_tokens,
    outputTokens: outcome.usage?.output_tokens,
    error: outcome.error?.message,
  };
}

/** Everything the page shows, read from the plugins' apis now. */
async function state(kernel: PluginApi, log: RequestLog, timeline: Timeline, canAct: boolean) {
  const health = await kernel.findApi('health-endpoint')?.report();
  const advisor = kernel.findApi('rate-limit-advisor');
  const cache = kernel.findApi('cache');
  const { backends } = kernel;
  return {
    at: Date.now(),
    readOnly: !canAct,
    active: backends.active,
    status: health?.status,
    backends: backends.names().map((name) => ({
      name,
      ...backends.get(name)!.describe(),
      health: health?.backends[name],
      quota: advisor?.quota(name),
    })),
    cache: cache ? { tiers: cache.tierReports(), savings: cache.savings() } : undefined,
    requests: log.list(),
    windowMinutes: timeline.windowMinutes,
    timeline: timeline.points(),
  };
}

export default dashboard;
