import { ProxyError } from '../../errors.js';
import { isRecord } from '../../config/is-record.js';
import type { BackendEndpoint, BackendHealth, BackendRegistry, Plugin, PluginApis, SharedEndpointState } from '../../kernel/types.js';
import { parsePluginOptions } from '../../plugin-kit/plugin-options.js';
import { probeBackend } from '../../plugin-kit/probe.js';
import { Breaker, type BreakerState, type SharedCircuit } from './breaker.js';
import { backendHealthOptions, type BackendHealthOptions, type BreakerSettings } from './options.js';

export { backendHealthOptions, type BackendHealthOptions } from './options.js';
export type { BreakerState } from './breaker.js';

/** A probe's result and when it was taken. */
export type ProbeResult = BackendHealth & { at: number };

export interface CircuitState {
  state: BreakerState;
  consecutiveFailures: number;
  /** While open: seconds until the proxy tries the backend again. */
  retryInSeconds?: number;
  lastFailure?: string;
}

/** What backend-health offers the plugins that depend on it (/health, the dashboard, failover). */
export interface BackendHealthApi {
  /** The backend's circuit, once a request to it failed. */
  circuit(backend: string): CircuitState | undefined;
  /** The last periodic probe, when probes run (`probeIntervalMs`). */
  lastProbe(backend: string): ProbeResult | undefined;
  /** The last probe, or (before the first one finished) the one under way or a new one. */
  latestProbe(backend: string): Promise<ProbeResult>;
  /** Probes run on their own: /health reports the last one instead of probing. */
  readonly periodic: boolean;
}

declare module '../../kernel/types.js' {
  interface PluginApis {
    'backend-health': BackendHealthApi;
  }
}

/**
 * Built-in: a circuit breaker per backend, fed by the outcome of every request, and optional
 * periodic probes. While a backend's circuit is open its requests are answered at once (503,
 * `retry-after` the rest of the cooldown) instead of waiting on a backend that fails; cache hits
 * are still served. After the cooldown one probe decides.
 */
export function backendHealth(options: BackendHealthOptions = {}): Plugin {
  const checked = parsePluginOptions('backend-health', backendHealthOptions, options);
  const settings: BreakerSettings = {
    failureThreshold: checked.failureThreshold ?? 5,
    errorRatio: checked.errorRatio ?? 0.5,
    windowMs: checked.windowMs ?? 60_000,
    minRequests: checked.minRequests ?? 10,
    cooldownMs: checked.cooldownMs ?? 15_000,
  };
  const probeIntervalMs = checked.probeIntervalMs ?? 30_000;
  const probeTimeoutMs = checked.probeTimeoutMs ?? 5_000;
  const syncIntervalMs = checked.syncIntervalMs ?? 2_000;
  const breakers = new Map<string, Breaker>();
  let shared: SharedStore | undefined;
  let sync: NodeJS.Timeout | undefined;
  /** Runs `change` on the backend's breaker and tells the other proxies when it opened or closed. */
  const update = (name: string, change: (breaker: Breaker) => void): void => {
    const breaker = breakerOf(name);
    const before = breaker.changedAt;
    change(breaker);
    if (shared && breaker.changedAt !== before) void shared.set(`circuit:${name}`, JSON.stringify(breaker.shared()), 86_400);
  };
  const probes = new Map<string, ProbeResult>();
  const trials = new Map<string, Promise<boolean>>();
  let backends: BackendRegistry | undefined;
  let timer: NodeJS.Timeout | undefined;

  const breakerOf = (name: string): Breaker => {
    let breaker = breakers.get(name);
    if (!breaker) breakers.set(name, (breaker = new Breaker(settings)));
    return breaker;
  };
  const running = new Map<string, Promise<ProbeResult>>();
  // One probe per backend at a time: a round, a trial and /health share it.
  const probe = (name: string): Promise<ProbeResult> => {
    const under = running.get(name);
    if (under) return under;
    const next = probeOnce(backends, name, probeTimeoutMs).then((health) => {
      const result = { ...health, at: Date.now() };
      probes.set(name, result);
      return result;
    });
    running.set(name, next);
    void next.finally(() => running.delete(name));
    return next;
  };
  // One trial per backend at a time; the requests that arrive meanwhile wait for its verdict.
  const trial = (name: string): Promise<boolean> => {
    const running = trials.get(name);
    if (running) return running;
    breakerOf(name).halfOpen();
    const verdict = probe(name).then((result) => {
      update(name, (breaker) => (result.status === 'down' ? breaker.failure(`probe: ${result.detail ?? 'down'}`) : breaker.success()));
      return result.status !== 'down';
    });
    trials.set(name, verdict);
    void verdict.finally(() => trials.delete(name));
    return verdict;
  };

  const api: BackendHealthApi = {
    circuit(name) {
      const breaker = breakers.get(name);
      if (!breaker) return undefined;
      const wait = breaker.waitMs();
      return {
        state: breaker.state,
        consecutiveFailures: breaker.consecutiveFailures,
        ...(breaker.state === 'open' ? { retryInSeconds: Math.ceil(wait / 1000) } : {}),
        ...(breaker.lastFailure ? { lastFailure: breaker.lastFailure } : {}),
      };
    },
    lastProbe: (name) => probes.get(name),
    latestProbe: (name) => {
      const last = probes.get(name);
      // A backend last seen down that a request just reached is being probed again: wait for that.
      const under = running.get(name);
      if (under && (!last || last.status === 'down')) return under;
      return last ? Promise.resolve(last) : probe(name);
    },
    periodic: probeIntervalMs > 0,
  };

  return {
    name: 'backend-health',
    optionalDependencies: ['redis-cache'],
    api,
    apply(kernel) {
      backends = kernel.backends;
      const registry = kernel.backends;
      shared = kernel.findApi('redis-cache')?.shared;
      const store = shared;
      if (store) {
        // Circuits other proxies in front of the same backends opened or closed; the newer change wins.
        const pushed = new Map<string, number>();
        const pull = async () => {
          for (const name of registry.names()) {
            const remote = parseShared(await store.get(`circuit:${name}`));
            if (remote) breakerOf(name).adopt(remote);
            for (const endpoint of registry.get(name)?.endpoints ?? []) await syncEndpoint(store, `endpoint:${name}:${endpoint.label}`, endpoint, pushed);
          }
        };
        sync = setInterval(() => void pull(), syncIntervalMs);
        sync.unref();
      }
      kernel.hooks.transform.tapPromise({ name: 'backend-health', stage: -200 }, async (exchange, ctx) => {
        if (exchange.phase !== 'request' || !ctx.route) return exchange;
        const name = ctx.route.backend.name;
        const breaker = breakers.get(name);
        if (!breaker || breaker.state === 'closed') return exchange;
        if (breaker.waitMs() === 0 && (await trial(name))) return exchange;
        throw unavailable(name, breaker);
      });
      kernel.hooks.respond.tap('backend-health', (ctx, outcome) => {
        // A hit never reached the backend.
        if (ctx.cache.status === 'hit' || ctx.cache.status === 'semantic-hit' || outcome.error) return;
        const name = outcome.backend ?? ctx.route?.backend.name;
        if (name === undefined || !outcome.complete) return;
        if (breakers.has(name)) update(name, (breaker) => breaker.success());
        // It answered: a probe that last found it down (a tunnel not up yet) is out of date.
        if (probeIntervalMs > 0 && probes.get(name)?.status === 'down') void probe(name);
      });
      // Every failed attempt, the ones failover followed with another included; a refusal of this
      // plugin's own says nothing new.
      kernel.hooks.error.tap('backend-health', (ctx, error) => {
        if (ctx.cache.status === 'hit' || ctx.cache.status === 'semantic-hit') return;
        const name = ctx.route?.backend.name;
        if (name === undefined || error.backend !== name || error.status < 500 || error.endpoint !== undefined) return;
        if (error.code === 'backend_unavailable' || error.code === 'client_closed') return;
        update(name, (breaker) => breaker.failure(error.message.slice(0, 300)));
      });
    },
    ready() {
      if (probeIntervalMs === 0 || !backends) return;
      const registry = backends;
      const round = () => {
        for (const name of registry.names()) {
          const breaker = breakers.get(name);
          if (breaker && breaker.state !== 'closed' && breaker.waitMs() === 0) void trial(name);
          else if (!breaker || breaker.state === 'closed') void probe(name);
        }
      };
      round();
      timer = setInterval(round, probeIntervalMs);
      timer.unref();
    },
    close() {
      clearInterval(timer);
      clearInterval(sync);
    },
  };
}

type SharedStore = PluginApis['redis-cache']['shared'];

/**
 * One endpoint of a backend with several, between proxies: a change of its own (taken out,
 * back) is written once, and a later change another proxy wrote is taken. No failure text.
 */
async function syncEndpoint(store: SharedStore, key: string, endpoint: BackendEndpoint, pushed: Map<string, number>): Promise<void> {
  if (endpoint.changedAt > (pushed.get(key) ?? 0)) {
    pushed.set(key, endpoint.changedAt);
    await store.set(key, JSON.stringify(endpoint.shared()), 86_400);
    return;
  }
  const remote = parseSharedEndpoint(await store.get(key));
  if (remote) endpoint.adopt(remote);
}

function parseSharedEndpoint(text: string | undefined): SharedEndpointState | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value) || (value.state !== 'up' && value.state !== 'down')) return undefined;
    if (typeof value.changedAt !== 'number' || typeof value.retryAt !== 'number' || typeof value.consecutiveFailures !== 'number') return undefined;
    return { state: value.state, changedAt: value.changedAt, retryAt: value.retryAt, consecutiveFailures: value.consecutiveFailures };
  } catch {
    return undefined;
  }
}

/** A circuit another proxy shared, if it reads as one. */
function parseShared(text: string | undefined): SharedCircuit | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (!isRecord(value) || (value.state !== 'open' && value.state !== 'closed')) return undefined;
    if (typeof value.changedAt !== 'number' || typeof value.consecutiveFailures !== 'number') return undefined;
    return {
      state: value.state,
      changedAt: value.changedAt,
      consecutiveFailures: value.consecutiveFailures,
      ...(typeof value.openedAt === 'number' ? { openedAt: value.openedAt } : {}),
    };
  } catch {
    return undefined;
  }
}

function unavailable(name: string, breaker: Breaker): ProxyError {
  const seconds = Math.max(1, Math.ceil(breaker.waitMs() / 1000));
  const why = breaker.lastFailure ? `; the last: ${breaker.lastFailure}` : '';
  return new ProxyError(
    `backend "${name}" is failing, so the proxy is not sending it requests for ${seconds} s (circuit open after ${breaker.consecutiveFailures} failures${why})`,
    { code: 'backend_unavailable', type: 'api_error', status: 503, backend: name, retryable: true, retryAfter: seconds },
  );
}

/** The backend's probe, or `down` for a name no backend has. */
function probeOnce(backends: BackendRegistry | undefined, name: string, timeoutMs: number): Promise<BackendHealth> {
  const backend = backends?.get(name);
  return backend ? probeBackend(backend, timeoutMs) : Promise.resolve({ status: 'down', detail: `no backend named "${name}"` });
}

export default backendHealth;
