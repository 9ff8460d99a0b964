import type { BackendHealth, BackendRegistry, Plugin, StatusRegistry, StatusSection } from '../../../kernel/types.js';

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  active: string;
  backends: Record<string, BackendHealth & { type: string; active: boolean }>;
  /** Sections plugins add (cache tiers, tunnels, savings). */
  plugins: Record<string, StatusSection>;
}

const HEALTH_TIMEOUT_MS = 5_000;

/** Checks every backend at once, each bounded by a timeout. */
export async function checkHealth(backends: BackendRegistry, sections: StatusRegistry): Promise<HealthReport> {
  const plugins = sections.collect();
  const entries = await Promise.all(
    backends.names().map(async (name) => {
      const backend = backends.get(name)!;
      const signal = AbortSignal.timeout(HEALTH_TIMEOUT_MS);
      const health = await backend.health(signal).catch((error: unknown): BackendHealth => ({
        status: 'down',
        detail: error instanceof Error ? error.message : String(error),
      }));
      const { models: _models, ...rest } = health;
      return [name, { ...rest, type: backend.type, active: name === backends.active }] as const;
    }),
  );
  const report = Object.fromEntries(entries);
  const activeStatus = report[backends.active]?.status;
  const extra = await plugins;
  const anyDown = entries.some(([, h]) => h.status !== 'ok') || Object.values(extra).some((s) => s.status === 'down' || s.status === 'degraded');
  const status = activeStatus === 'down' ? 'down' : anyDown ? 'degraded' : 'ok';
  return { status, active: backends.active, backends: report, plugins: extra };
}

/** Built-in: `HEAD /` and `GET /` (Claude Code probes them) and `GET /health`. */
export function healthEndpoint(options: { version: string }): Plugin {
  return {
    name: 'health-endpoint',
    apply({ router, backends, status }) {
      router.head('/', (koa) => {
        koa.status = 200;
      });
      router.get('/', (koa) => {
        koa.body = { name: 'llm-proxy', version: options.version, status: 'ok', active: backends.active };
      });
      router.get('/health', async (koa) => {
        const report = await checkHealth(backends, status);
        koa.status = report.status === 'down' ? 503 : 200;
        koa.body = report;
      });
    },
  };
}
