import type { ProxyError } from '../../errors.js';
import type { Backend, BackendRegistry, ProxyContext, RetryPolicy, RouteDecision } from '../../kernel/types.js';
import type { FailoverSettings } from '../../config/types.js';
import { isClientFault, isTransient } from '../../plugin-kit/failure-kind.js';

export type FailoverTuning = Required<Omit<FailoverSettings, 'mode'>>;

export const DEFAULT_TUNING: FailoverTuning = {
  retries: 2,
  baseDelayMs: 250,
  maxDelayMs: 4_000,
  deadlineMs: 30_000,
  maxRetryAfterMs: 10_000,
};

/** Where a request may go next: whether a backend can take it now, and its fallbacks in order. */
export interface Candidates {
  /** The backends to try after `primary`, in order (its `fallback`, or every other backend). */
  after(primary: string): readonly string[];
  /** False while the backend's circuit is open or a known limit of it is used up. */
  available(name: string, ctx: ProxyContext): boolean;
}

/**
 * One request's attempts in `auto` mode: a transient failure (the connection, a 5xx, a 529, a
 * 429 with a short `retry-after`) is retried on the same backend with exponential backoff and
 * jitter; then, or at once for what retrying cannot fix, the next available fallback is tried.
 * A request the client got wrong (a 400, a 413) is never retried, and no attempt starts after
 * the deadline.
 */
export class Attempts implements RetryPolicy {
  readonly #tried = new Set<string>();
  #retries = 0;

  constructor(
    private readonly backends: BackendRegistry,
    private readonly candidates: Candidates,
    private readonly tuning: FailoverTuning,
    private readonly random: () => number = Math.random,
  ) {}

  next(error: ProxyError, ctx: ProxyContext): { route: RouteDecision; delayMs: number } | undefined {
    const route = ctx.route;
    if (!route || isClientFault(error)) return undefined;
    this.#tried.add(route.backend.name);
    const left = ctx.startedAt + this.tuning.deadlineMs - Date.now();
    if (left <= 0) return undefined;
    if (this.#retries < this.tuning.retries && isTransient(error)) {
      const delayMs = this.#delay(error);
      if (delayMs !== undefined && delayMs < left) {
        this.#retries++;
        return { route, delayMs };
      }
    }
    const next = this.#fallback(ctx);
    if (!next) return undefined;
    this.#retries = 0;
    this.#tried.add(next.name);
    return { route: { backend: next, model: next.resolveModel(requestedModel(ctx.body.model, this.backends)) }, delayMs: 0 };
  }

  /** Whether a backend other than the one in use could take the request now. */
  hasFallback(ctx: ProxyContext): boolean {
    return this.#fallbackName(ctx) !== undefined;
  }

  #fallback(ctx: ProxyContext): Backend | undefined {
    const name = this.#fallbackName(ctx);
    return name === undefined ? undefined : this.backends.get(name);
  }

  #fallbackName(ctx: ProxyContext): string | undefined {
    const primary = this.#primary(ctx);
    if (primary === undefined) return undefined;
    return this.candidates
      .after(primary)
      .find((name) => !this.#tried.has(name) && name !== ctx.route?.backend.name && this.candidates.available(name, ctx));
  }

  /** The backend the request was routed to first. */
  #primary(ctx: ProxyContext): string | undefined {
    return ctx.attempts[0]?.backend ?? ctx.route?.backend.name;
  }

  /** The wait before trying the same backend again; undefined when its `retry-after` is longer than worth waiting. */
  #delay(error: ProxyError): number | undefined {
    const backoff = Math.min(this.tuning.maxDelayMs, this.tuning.baseDelayMs * 2 ** this.#retries);
    // Half fixed, half random: spread out, never all at once after an outage.
    const jittered = Math.round(backoff / 2 + (this.random() * backoff) / 2);
    if (error.retryAfter === undefined) return jittered;
    const asked = error.retryAfter * 1000;
    return asked > this.tuning.maxRetryAfterMs ? undefined : Math.max(asked, jittered);
  }
}

/** The model the client asked for without a `<backend>/` or `<backend>,` prefix: what a fallback maps. */
function requestedModel(model: string, backends: BackendRegistry): string {
  const separator = model.search(/[/,]/);
  return separator > 0 && backends.get(model.slice(0, separator)) ? model.slice(separator + 1) || model : model;
}
