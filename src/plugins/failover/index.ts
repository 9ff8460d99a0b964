import { ConfigError, ProxyError } from '../../errors.js';
import type { FailoverMode, FailoverSettings } from '../../config/types.js';
import type { BackendRegistry, Plugin, PluginApis, ProxyContext } from '../../kernel/types.js';
import { Attempts, DEFAULT_TUNING, type Candidates, type FailoverTuning } from './policy.js';
import { isSuperseded } from '../../plugin-kit/attempts.js';


declare module '../../errors.js' {
  interface PluginErrorCodes {
    /** Failover moved a request on before sending it: the backend's known quota could not serve it. */
    quota_short: true;
  }
}

/**
 * Built-in: the top-level `failover` setting. `auto` lets a request that failed before its first
 * byte reached the client be retried (same backend, backoff with jitter) and then moved along the
 * backend's `fallback` list (or the other backends, in config order), skipping backends whose
 * circuit is open or whose known quota cannot serve it. `explicit` (the default) and `off` never
 * resend a request.
 */
export function failover(settings: FailoverSettings = {}): Plugin {
  const mode: FailoverMode = settings.mode ?? 'explicit';
  const tuning: FailoverTuning = { ...DEFAULT_TUNING, ...definedOnly(settings) };
  let backends: BackendRegistry | undefined;
  return {
    name: 'failover',
    optionalDependencies: ['backend-health', 'rate-limit-advisor'],
    apply(kernel) {
      backends = kernel.backends;
      if (mode !== 'auto') return;
      const registry = kernel.backends;
      const candidates = candidatesOf(registry, kernel.findApi('backend-health'), kernel.findApi('rate-limit-advisor'));
      const advisor = kernel.findApi('rate-limit-advisor');
      kernel.hooks.request.tap({ name: 'failover', stage: 100 }, (ctx) => {
        if (ctx.endpoint === 'messages') ctx.retryPolicy = new Attempts(registry, candidates, tuning);
      });
      // The error the client gets says what was tried before it.
      kernel.hooks.error.tap('failover', (ctx, error) => {
        if (ctx.attempts.length === 0 || isSuperseded(ctx, error)) return;
        error.advise(`failover tried first: ${ctx.attempts.map((attempt) => `${attempt.backend} (${brief(attempt.error.message)})`).join(', ')}`);
      });
      if (advisor) {
        // Before the advisor's own warning (-50): a backend whose quota cannot serve this request
        // is not sent it while a fallback can take it.
        kernel.hooks.transform.tap({ name: 'failover', stage: -60 }, (exchange, ctx) => {
          if (exchange.phase !== 'request' || !ctx.route || !(ctx.retryPolicy instanceof Attempts)) return exchange;
          const short = advisor.shortfall(ctx.route.backend.name, ctx);
          if (short !== undefined && ctx.retryPolicy.hasFallback(ctx)) throw quotaShort(ctx, short);
          return exchange;
        });
      }
    },
    ready() {
      if (backends) checkFallbacks(backends);
    },
  };
}

function candidatesOf(
  backends: BackendRegistry,
  health: PluginApis['backend-health'] | undefined,
  advisor: PluginApis['rate-limit-advisor'] | undefined,
): Candidates {
  return {
    after(primary) {
      const listed = fallbackOf(backends, primary);
      return listed ?? backends.names().filter((name) => name !== primary);
    },
    available(name, ctx) {
      const circuit = health?.circuit(name);
      if (circuit?.state === 'open' && (circuit.retryInSeconds ?? 0) > 0) return false;
      return advisor?.shortfall(name, ctx) === undefined;
    },
  };
}

function fallbackOf(backends: BackendRegistry, name: string): readonly string[] | undefined {
  const value = backends.spec(name)?.options.fallback;
  return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === 'string') : undefined;
}

/** A `fallback` naming no backend, or the backend itself, stops the start. */
function checkFallbacks(backends: BackendRegistry): void {
  for (const name of backends.names()) {
    const spec = backends.spec(name);
    const listed = fallbackOf(backends, name) ?? [];
    listed.forEach((entry, index) => {
      if (entry === name || !backends.get(entry)) {
        const why = entry === name ? 'is the backend itself' : `is not a backend (defined: ${backends.names().join(', ')})`;
        throw new ConfigError(`"${entry}" ${why}`, { file: spec?.file, field: `backends.${name}.fallback[${index}]` });
      }
    });
  }
}

function quotaShort(ctx: ProxyContext, reason: string): ProxyError {
  return new ProxyError(reason, { code: 'quota_short', type: 'rate_limit_error', status: 429, backend: ctx.route?.backend.name });
}

function brief(message: string): string {
  return message.length > 120 ? `${message.slice(0, 117)}...` : message;
}

function definedOnly(settings: FailoverSettings): Partial<FailoverTuning> {
  const { mode: _mode, ...tuning } = settings;
  return Object.fromEntries(Object.entries(tuning).filter(([, value]) => value !== undefined));
}

export default failover;
