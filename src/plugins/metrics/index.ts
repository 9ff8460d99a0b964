import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BackendRegistry, Outcome, Plugin, PluginApis, ProxyContext } from '../../kernel/types.js';
import { parsePluginOptions } from '../../plugin-kit/plugin-options.js';
import { metricsOptions, type MetricsOptions } from './options.js';

export { metricsOptions, type MetricsOptions } from './options.js';

declare module '../../kernel/types.js' {
  interface ContextState {
    /** This request is counted in flight (and, a stream, among the open streams). */
    metricsInFlight?: boolean;
  }
}

const SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const FIRST_TOKEN = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60];
const CIRCUIT_STATES = ['closed', 'half-open', 'open'] as const;

/**
 * Built-in: `GET /metrics` in Prometheus' text format (prom-client), on the proxy's port. With
 * client keys configured (a proxy listening beyond loopback must have them) a scrape needs one,
 * as every other endpoint but `/health` does. Counted per request in the `request` and `respond`
 * hooks; the cache, quota and circuit figures are read from their plugins at scrape time.
 */
export function metrics(options: MetricsOptions = {}): Plugin {
  const checked = parsePluginOptions('metrics', metricsOptions, options);
  const path = checked.path ?? '/metrics';
  const registry = new Registry();
  return {
    name: 'metrics',
    optionalDependencies: ['cache', 'backend-health', 'rate-limit-advisor', 'telemetry'],
    apply(kernel) {
      const { hooks, router, backends } = kernel;
      const figures = (checked.processMetrics ?? true) ? processRegistry() : undefined;
      const counted = countRequests(registry);
      readPlugins(registry, backends, kernel.findApi('cache'), kernel.findApi('backend-health'), kernel.findApi('rate-limit-advisor'));
      countSpans(registry, kernel.findApi('telemetry'));
      hooks.request.tap({ name: 'metrics', stage: -1000 }, (ctx) => counted.start(ctx));
      // Every failed attempt, failover's included: what went wrong upstream, by kind.
      hooks.error.tap('metrics', (_ctx, error) => {
        if (error.backend !== undefined && error.code !== 'client_closed') counted.upstreamErrors.inc({ backend: error.backend, code: String(error.code) });
      });
      hooks.respond.tap('metrics', (ctx, outcome) => counted.end(ctx, outcome));
      router.get(path, async (koa) => {
        koa.set('content-type', registry.contentType);
        koa.set('cache-control', 'no-store');
        koa.body = `${await registry.metrics()}${figures ? await figures.metrics() : ''}`;
      });
    },
    close() {
      registry.clear();
    },
  };
}

let processFigures: Registry | undefined;

/** The process figures, one set per process (however many proxies it runs: each would add an event-loop monitor). */
function processRegistry(): Registry {
  if (!processFigures) {
    processFigures = new Registry();
    collectDefaultMetrics({ register: processFigures, prefix: 'llm_proxy_' });
    // Gauges prom-client names `_total`, which Prometheus keeps for counters (`promtool check
    // metrics` refuses them); the same counts without the suffix, by type, stay.
    for (const name of ['active_handles_total', 'active_requests_total', 'active_resources_total']) processFigures.removeSingleMetric(`llm_proxy_nodejs_${name}`);
  }
  return processFigures;
}

function countRequests(registry: Registry) {
  const registers = [registry];
  const requests = new Counter({
    name: 'llm_proxy_requests_total',
    help: 'Messages and count_tokens requests answered, by backend, model, backend endpoint, HTTP status and cache status',
    labelNames: ['backend', 'model', 'endpoint', 'status', 'cache'] as const,
    registers,
  });
  const duration = new Histogram({
    name: 'llm_proxy_request_duration_seconds',
    help: 'From the whole request body to the end of the answer, seconds',
    labelNames: ['backend', 'stream'] as const,
    buckets: SECONDS,
    registers,
  });
  const firstToken = new Histogram({
    name: 'llm_proxy_time_to_first_token_seconds',
    help: "A stream's first event after the whole request body, seconds",
    labelNames: ['backend'] as const,
    buckets: FIRST_TOKEN,
    registers,
  });
  const tokens = new Counter({ name: 'llm_proxy_tokens_total', help: 'Tokens the answers reported, by backend and direction', labelNames: ['backend', 'direction'] as const, registers });
  const cacheRequests = new Counter({ name: 'llm_proxy_cache_requests_total', help: 'Messages requests by cache status and the tier that answered', labelNames: ['status', 'tier'] as const, registers });
  const upstreamErrors = new Counter({ name: 'llm_proxy_upstream_errors_total', help: 'Failed attempts a backend was to blame for or named in, by error code', labelNames: ['backend', 'code'] as const, registers });
  const failovers = new Counter({ name: 'llm_proxy_failovers_total', help: 'Requests failover answered from another backend than the first it tried', labelNames: ['from', 'to'] as const, registers });
  const inFlight = new Gauge({ name: 'llm_proxy_requests_in_flight', help: 'Requests being answered now', registers });
  const openStreams = new Gauge({ name: 'llm_proxy_open_streams', help: 'Streams being answered now', registers });
  return {
    upstreamErrors,
    start(ctx: ProxyContext) {
      ctx.state.metricsInFlight = true;
      inFlight.inc();
      if (ctx.stream) openStreams.inc();
    },
    end(ctx: ProxyContext, outcome: Outcome) {
      if (ctx.state.metricsInFlight) {
        inFlight.dec();
        if (ctx.stream) openStreams.dec();
      }
      const backend = outcome.backend ?? ctx.route?.backend.name ?? '';
      requests.inc({ backend, model: outcome.model ?? '', endpoint: ctx.responseHeaders['x-llm-proxy-endpoint'] ?? '', status: String(outcome.status), cache: ctx.cache.status });
      duration.observe({ backend, stream: String(ctx.stream) }, outcome.durationMs / 1000);
      if (outcome.firstEventMs !== undefined) firstToken.observe({ backend }, outcome.firstEventMs / 1000);
      if (outcome.usage) {
        tokens.inc({ backend, direction: 'input' }, outcome.usage.input_tokens ?? 0);
        tokens.inc({ backend, direction: 'output' }, outcome.usage.output_tokens ?? 0);
      }
      if (ctx.endpoint === 'messages' && ctx.route) cacheRequests.inc({ status: ctx.cache.status, tier: ctx.cache.tier ?? '' });
      const first = ctx.attempts[0]?.backend;
      if (first !== undefined && first !== backend && !outcome.error) failovers.inc({ from: first, to: backend });
    },
  };
}

/** Gauges read from other plugins when Prometheus scrapes: the cache tiers, quotas, circuits. */
function readPlugins(
  registry: Registry,
  backends: BackendRegistry,
  cache: PluginApis['cache'] | undefined,
  health: PluginApis['backend-health'] | undefined,
  advisor: PluginApis['rate-limit-advisor'] | undefined,
): void {
  const registers = [registry];
  const tierFigure = (field: 'bytes' | 'entries') =>
    function (this: Gauge<'tier'>) {
      this.reset();
      for (const [tier, report] of Object.entries(cache?.tierReports() ?? {})) {
        const value = report[field];
        if (typeof value === 'number') this.set({ tier }, value);
      }
    };
  new Gauge({ name: 'llm_proxy_cache_bytes', help: 'Bytes each cache tier holds (the tiers that count them)', labelNames: ['tier'] as const, registers, collect: tierFigure('bytes') });
  new Gauge({ name: 'llm_proxy_cache_entries', help: 'Answers each cache tier holds (the tiers that count them)', labelNames: ['tier'] as const, registers, collect: tierFigure('entries') });
  new Gauge({
    name: 'llm_proxy_quota_remaining',
    help: 'What the backend last reported left of each rate limit (a limit past its reset counts as refilled)',
    labelNames: ['backend', 'resource', 'window'] as const,
    registers,
    collect() {
      this.reset();
      for (const backend of backends.names()) {
        for (const limit of advisor?.quota(backend)?.limits ?? []) {
          const left = limit.remaining ?? limit.limit;
          if (left !== undefined) this.set({ backend, resource: limit.resource, window: limit.window }, left);
        }
      }
    },
  });
  new Gauge({
    name: 'llm_proxy_circuit_state',
    help: "1 for the state each backend's circuit is in (closed, half-open, open)",
    labelNames: ['backend', 'state'] as const,
    registers,
    collect() {
      this.reset();
      for (const backend of backends.names()) {
        const state = health?.circuit(backend)?.state ?? 'closed';
        for (const each of CIRCUIT_STATES) this.set({ backend, state: each }, each === state ? 1 : 0);
      }
    },
  });
}

/** With the telemetry plugin: what became of the trace spans (a collector down shows as drops and failed exports). */
function countSpans(registry: Registry, telemetry: PluginApis['telemetry'] | undefined): void {
  if (!telemetry) return;
  new Counter({
    name: 'llm_proxy_trace_spans_total',
    help: 'Trace spans finished, by what became of them: exported, dropped (the queue was full) or failed (the export failed)',
    labelNames: ['result'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const counts = telemetry.spans();
      for (const result of ['exported', 'dropped', 'failed'] as const) this.inc({ result }, counts[result]);
    },
  });
}

export default metrics;
