import type { Logger } from '../logger.js';

export type DependencyState = 'unknown' | 'up' | 'down';

/** While down, one call a second probes whether the dependency is back; the others skip it at once. */
const PROBE_INTERVAL_MS = 1000;

/**
 * The health of something a plugin can do without (Redis, an embedder): an outage is logged once
 * when it starts and once when it ends, and while it lasts callers skip it except for a probe.
 */
export class DependencyHealth {
  #state: DependencyState = 'unknown';
  #lastError: string | undefined;
  #nextProbe = 0;

  constructor(
    private readonly logger: Logger,
    private readonly messages: { down(reason: string): string; up: string },
  ) {}

  get state(): DependencyState {
    return this.#state;
  }

  get lastError(): string | undefined {
    return this.#lastError;
  }

  /** False while it is down and the next probe is not due. */
  shouldTry(): boolean {
    return this.#state !== 'down' || Date.now() >= this.#nextProbe;
  }

  up(): void {
    if (this.#state === 'down') this.logger.info(this.messages.up);
    this.#state = 'up';
  }

  down(reason: string): void {
    this.#lastError = reason;
    this.#nextProbe = Date.now() + PROBE_INTERVAL_MS;
    if (this.#state === 'down') return;
    this.#state = 'down';
    this.logger.warn(this.messages.down(reason));
  }
}
