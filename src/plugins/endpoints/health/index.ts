import type { Backend, BackendHealth, BackendRegistry, Plugin, PluginApis, StatusRegistry, StatusSection } from '../../../kernel/types.js';
import { probeBackend } from '../../../plugin-kit/probe.js';

type HealthMonitor = PluginApis['backend-health'];

/** The `health-endpoint` plugin's api: the report `/health` serves, for the dashboard. */
export interface HealthApi {
  report(): Promise<HealthReport>;
}

declare module '../../../kernel/types.js' {
  interface PluginApis {
    'health-endpoint': HealthApi;
  }
}

export interface HealthReport {
  status: 'ok' | 'degraded' | 'down';
  active: string;
  backends: Record<string, BackendHealth & { type: string; active: boolean; probeAgeSeconds?: number; circuit?: 'open' | 'half-open' }>;
  /** Sections plugins add (cache tiers, tunnels, savings). */
  plugins: Record<string, StatusSection>;
}

const HEALTH_TIMEOUT_MS = 5_000;

/**
 * Every backend's health: the last periodic probe and its age when backend-health runs probes
 * (the default; before the first one finished, that one), else a probe of each now (all at once,
 * each bounded). A backend whose circuit is open is `down`
 * whatever its probe says: the proxy is not sending it requests.
 */
export async function checkHealth(backends: BackendRegistry, sections: StatusRegistry, monitor?: HealthMonitor): Promise<HealthReport> {
  const plugins = sections.collect();
  const entries = await Promise.all(
    backends.names().map(async (name) => {
      const backend = backends.get(name)!;
      const probed = monitor?.periodic ? await monitor.latestProbe(name) : await probeBackend(backend, HEALTH_TIMEOUT_MS);
      const health = withLiveEndpoints(probed, backend);
      const { models: _models, at, ...rest } = health as BackendHealth & { at?: number };
      const age = at === undefined ? {} : { probeAgeSeconds: Math.max(0, Math.round((Date.now() - at) / 1000)) };
      const circuit = monitor?.circuit(name);
      const open =
        circuit && circuit.state !== 'closed'
          ? {
              status: 'down' as const,
              circuit: circuit.state,
              detail: `circuit ${circuit.state} after ${circuit.consecutiveFailures} failures${circuit.retryInSeconds !== undefined ? `, tried again in ${circuit.retryInSeconds} s` : ''}${circuit.lastFailure ? `; the last: ${circuit.lastFailure}` : ''}`,
            }
          : {};
      return [name, { ...rest, ...age, ...open, type: backend.type, active: name === backends.active }] as const;
    }),
  );
  const report = Object.fromEntries(entries);
  const activeStatus = report[backends.active]?.status;
  const extra = await plugins;
  const anyDown = entries.some(([, h]) => h.status !== 'ok') || Object.values(extra).some((s) => s.status === 'down' || s.status === 'degraded');
  const status = activeStatus === 'down' ? 'down' : anyDown ? 'degraded' : 'ok';
  return { status, active: backends.active, backends: report, plugins: extra };
}

/**
 * A backend with several endpoints: the probe's view of each, with what routing knows now (its
 * requests in flight, and an endpoint taken out since, here or by another proxy, as `down`).
 */
function withLiveEndpoints<H extends BackendHealth>(health: H, backend: Backend): H {
  const live = backend.endpoints;
  if (!live || !health.endpoints) return health;
  const endpoints = health.endpoints.map((entry) => {
    const now = live.find((endpoint) => endpoint.label === entry.url);
    if (!now) return entry;
    const down = now.state === 'down' ? { status: 'down' as const, detail: now.lastFailure ?? entry.detail } : {};
    return { ...entry, inFlight: now.inFlight, ...down };
  });
  const up = endpoints.filter((entry) => entry.status !== 'down').length;
  const status = up === endpoints.length ? health.status : up === 0 ? 'down' : 'degraded';
  const detail = up === endpoints.length ? health.detail : `${up} of ${endpoints.length} endpoints answer`;
  return { ...health, status, endpoints, ...(detail === undefined ? {} : { detail }) };
}

/** Built-in: `HEAD /` and `GET /` (Claude Code probes them) and `GET /health`. */
export function healthEndpoint(options: { version: string }): Plugin {
  let report: (() => Promise<HealthReport>) | undefined;
  const api: HealthApi = {
    report: () => (report ? report() : Promise.reject(new Error('the health endpoint is not applied yet'))),
  };
  return {
    name: 'health-endpoint',
    optionalDependencies: ['backend-health'],
    api,
    apply(kernel) {
      const { router, backends, status } = kernel;
      const monitor = kernel.findApi('backend-health');
      report = () => checkHealth(backends, status, monitor);
      router.head('/', (koa) => {
        koa.status = 200;
      });
      router.get('/', (koa) => {
        koa.body = { name: 'llm-proxy', version: options.version, status: 'ok', active: backends.active };
      });
      router.get('/health', async (koa) => {
        const report = await checkHealth(backends, status, monitor);
        koa.status = report.status === 'down' ? 503 : 200;
        koa.body = report;
      });
    },
  };
}
