import type { ProxyError } from '../../errors.js';
import type { BackendRegistry, HealthState, Plugin, PluginApis } from '../../kernel/types.js';
import { parsePluginOptions } from '../../plugin-kit/plugin-options.js';
import { probeBackend } from '../../plugin-kit/probe.js';
import { isSuperseded } from '../../plugin-kit/attempts.js';
import { failureAdviceOptions, type FailureAdviceOptions } from './options.js';

export { failureAdviceOptions, type FailureAdviceOptions } from './options.js';

/**
 * Built-in: when a backend fails (unreachable, timed out, rate-limited, rejected the proxy's key,
 * overloaded), the error names the other configured backends that answer right now, e.g.
 * "`llm-proxy switch cerebras`". Taps `error` and only adds advice. Probes are bounded
 * (`probeTimeoutMs`, all at once) and cached (`cacheMs`), so a failing request waits at most one
 * probe and a burst of failures probes once. While backend-health probes periodically (its
default), its last probe and open circuits answer instead, with no probe of this plugin's own.
 */
export function failureAdvice(options: FailureAdviceOptions = {}): Plugin {
  const checked = parsePluginOptions('failure-advice', failureAdviceOptions, options);
  const probeTimeoutMs = checked.probeTimeoutMs ?? 1_500;
  const cacheMs = checked.cacheMs ?? 15_000;
  return {
    name: 'failure-advice',
    optionalDependencies: ['backend-health'],
    apply(kernel) {
      const { hooks, backends } = kernel;
      if (checked.enabled === false) return;
      const probes = new HealthProbes(backends, probeTimeoutMs, cacheMs, kernel.findApi('backend-health'));
      hooks.error.tapPromise('failure-advice', async (ctx, error) => {
        if (!isBackendFailure(error) || isSuperseded(ctx, error)) return;
        const others = backends.names().filter((name) => name !== error.backend);
        if (others.length === 0) return;
        const states = await Promise.all(others.map((name) => probes.state(name)));
        const answering = others.filter((_, i) => states[i] === 'ok');
        error.advise(
          answering.length > 0
            ? `switch to a backend that answers now: ${answering.map((name) => `\`llm-proxy switch ${name}\``).join(' or ')}`
            : `no other configured backend answers right now either (${others.join(', ')})`,
        );
      });
    },
  };
}

/** Failures of the backend itself, not of the request: 429, 5xx, 529 (never a client that left). */
function isBackendFailure(error: ProxyError): error is ProxyError & { backend: string } {
  return error.backend !== undefined && (error.status === 429 || error.status >= 500) && error.code !== 'client_closed';
}

class HealthProbes {
  readonly #cache = new Map<string, { at: number; state: Promise<HealthState> }>();

  constructor(
    private readonly backends: BackendRegistry,
    private readonly timeoutMs: number,
    private readonly cacheMs: number,
    private readonly monitor?: PluginApis['backend-health'],
  ) {}

  state(name: string): Promise<HealthState> {
    const monitor = this.monitor;
    // backend-health probes every backend already: its last probe (and circuit) is the answer.
    if (monitor?.periodic) {
      if (monitor.circuit(name)?.state === 'open') return Promise.resolve('down');
      return bounded(monitor.latestProbe(name).then((probe) => probe.status), this.timeoutMs);
    }
    const cached = this.#cache.get(name);
    if (cached && Date.now() - cached.at < this.cacheMs) return cached.state;
    const state = this.#probe(name);
    this.#cache.set(name, { at: Date.now(), state });
    return state;
  }

  async #probe(name: string): Promise<HealthState> {
    const backend = this.backends.get(name);
    return backend ? (await probeBackend(backend, this.timeoutMs)).status : 'down';
  }

}

/** The state, or `unknown` when it takes longer than a failing request should wait. */
function bounded(state: Promise<HealthState>, timeoutMs: number): Promise<HealthState> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<HealthState>((resolve) => {
    timer = setTimeout(() => resolve('unknown'), timeoutMs);
    timer.unref();
  });
  return Promise.race([state, late]).finally(() => clearTimeout(timer));
}
