import type { ProxyError } from '../../errors.js';
import type { BackendRegistry, HealthState, Plugin } from '../../kernel/types.js';
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
 * probe and a burst of failures probes once. (The rate-limit advisor will take this over.)
 */
export function failureAdvice(options: FailureAdviceOptions = {}): Plugin {
  const checked = parsePluginOptions('failure-advice', failureAdviceOptions, options);
  const probeTimeoutMs = checked.probeTimeoutMs ?? 1_500;
  const cacheMs = checked.cacheMs ?? 15_000;
  return {
    name: 'failure-advice',
    apply({ hooks, backends }) {
      if (checked.enabled === false) return;
      const probes = new HealthProbes(backends, probeTimeoutMs, cacheMs);
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
  ) {}

  state(name: string): Promise<HealthState> {
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
