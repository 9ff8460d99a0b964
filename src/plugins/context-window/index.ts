import { estimateInputTokens } from '../../anthropic/estimate-tokens.js';
import type { MessagesRequest } from '../../anthropic/types.js';
import type { Plugin, ProxyContext } from '../../kernel/types.js';
import { parsePluginOptions } from '../../plugin-kit/plugin-options.js';
import { Calibration } from './calibration.js';
import { fit } from './fit.js';
import { contextWindowOptions, type ContextWindowOptions } from './options.js';
import { WindowBook, type KnownWindow } from './windows.js';

export type { ContextWindowOptions } from './options.js';

/** What the context-window plugin offers the plugins that depend on it. */
export interface ContextWindowApi {
  /** The window of a backend's model (its default model when none is named), waiting for its server at most `waitMs`. */
  of(backend: string, model?: string): Promise<KnownWindow | undefined>;
}

declare module '../../kernel/types.js' {
  interface PluginApis {
    'context-window': ContextWindowApi;
  }
  interface ContextState {
    /** The input tokens estimated for the request sent upstream (before calibration), to learn from its answer. */
    contextEstimate?: number;
  }
}

/**
 * A request is estimated at no more than two tokens a byte of its body (digits one a byte, CJK
 * a third): when even that fits, it is not estimated at all.
 */
const MAX_TOKENS_PER_BYTE = 0.5;

/**
 * Built-in: every request checked against the window of the model it goes to, before it goes.
 * One that cannot fit is refused with the API's "prompt is too long" (Claude Code compacts); one
 * whose `max_tokens` does not fit gets it lowered to what is left.
 */
export function contextWindow(options: ContextWindowOptions = {}): Plugin {
  const settings = parsePluginOptions('context-window', contextWindowOptions, options);
  const enabled = settings.enabled !== false;
  let warm: (() => void) | undefined;
  const api: ContextWindowApi = { of: () => Promise.resolve(undefined) };
  return {
    name: 'context-window',
    api,
    apply({ hooks, backends, logger, status }) {
      if (!enabled) return;
      const windows = new WindowBook(backends, logger, {
        waitMs: settings.waitMs ?? 3_000,
        refreshMs: (settings.refreshSeconds ?? 600) * 1000,
        retryMs: 60_000,
      });
      warm = () => {
        const active = backends.get(backends.active);
        const model = active?.describe().model;
        if (active && typeof model === 'string') windows.warm(active, model);
      };
      const calibration = new Calibration();
      api.of = async (name, model) => {
        const backend = backends.get(name);
        const served = model ?? backend?.describe().model;
        return backend && typeof served === 'string' ? windows.of(backend, served) : backend ? windows.of(backend, '') : undefined;
      };

      hooks.transform.tapPromise({ name: 'context-window', stage: 1000 }, async (exchange, ctx) => {
        const route = ctx.route;
        if (exchange.phase !== 'request' || ctx.endpoint !== 'messages' || !route) return exchange;
        const window = await windows.of(route.backend, route.model);
        if (!window) return exchange;
        ctx.responseHeaders['x-llm-proxy-context-window'] = String(window.tokens);
        const request = exchange.body;
        if (surelyFits(ctx, request, window.tokens)) return exchange;
        const estimate = estimateInputTokens(request);
        ctx.state.contextEstimate = estimate;
        const input = Math.ceil(estimate * calibration.factor(route.backend.name, route.model));
        const verdict = fit(request, input, window, route.backend.name, route.model);
        if (verdict.kind === 'fits') return exchange;
        if (verdict.kind === 'too-long') throw verdict.error;
        ctx.responseHeaders['x-llm-proxy-max-tokens'] = `${verdict.maxTokens} (asked ${request.max_tokens})`;
        ctx.log.debug('max_tokens lowered to fit the context window', { asked: request.max_tokens, sent: verdict.maxTokens, window: window.tokens, input });
        // A copy: a later attempt (failover) may go to a backend with a larger window.
        return { phase: 'request', body: { ...request, max_tokens: verdict.maxTokens } };
      });

      hooks.respond.tap('context-window', (ctx, outcome) => {
        const estimate = ctx.state.contextEstimate;
        if (estimate === undefined || !outcome.complete || !outcome.usage || !outcome.backend || !outcome.model) return;
        if (ctx.cache.status !== 'miss' && ctx.cache.status !== 'bypass') return;
        calibration.learn(outcome.backend, outcome.model, estimate, outcome.usage);
      });

      status.add('context windows', () => ({
        status: 'ok',
        windows: windows.known().map((w) => ({ ...w, factor: calibration.factor(w.backend, w.model) })),
        calibration: calibration.factors(),
      }));
    },
    ready() {
      // The active backend's default model, read ahead so `status` (and `llm-proxy code`) know its window.
      warm?.();
    },
  };
}

/** The body's size says it fits whatever its text, so it need not be estimated. */
function surelyFits(ctx: ProxyContext, request: MessagesRequest, window: number): boolean {
  const length = Number(ctx.headers['content-length']);
  return Number.isFinite(length) && length > 0 && length * MAX_TOKENS_PER_BYTE + request.max_tokens <= window;
}
