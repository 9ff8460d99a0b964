import type { BreakerSettings } from './options.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

/** A circuit as it is shared between proxies (through redis-cache's shared store). */
export interface SharedCircuit {
  state: 'closed' | 'open';
  changedAt: number;
  consecutiveFailures: number;
  openedAt?: number;
}

/**
 * One backend's circuit: closed while it answers; open after `failureThreshold` failures in a row
 * or a share of `errorRatio` failures over `windowMs`; after `cooldownMs` one trial (a probe)
 * decides: success closes it, failure opens it for another cooldown.
 */
export class Breaker {
  state: BreakerState = 'closed';
  consecutiveFailures = 0;
  openedAt: number | undefined;
  lastFailure: string | undefined;
  /** When it last opened or closed, epoch ms (0: never). */
  changedAt = 0;
  readonly #outcomes: Array<{ at: number; ok: boolean }> = [];

  constructor(private readonly settings: BreakerSettings) {}

  success(now = Date.now()): void {
    this.consecutiveFailures = 0;
    this.#note(now, true);
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.openedAt = undefined;
      this.changedAt = now;
      this.#outcomes.length = 0;
    }
  }

  failure(reason: string, now = Date.now()): void {
    this.consecutiveFailures++;
    this.lastFailure = reason;
    this.#note(now, false);
    if (this.state === 'half-open' || (this.state === 'closed' && this.#tripped())) {
      this.state = 'open';
      this.openedAt = now;
      this.changedAt = now;
    }
  }

  /** Milliseconds an open circuit still answers at once (0: time for a trial). */
  waitMs(now = Date.now()): number {
    return this.state === 'open' && this.openedAt !== undefined ? Math.max(0, this.openedAt + this.settings.cooldownMs - now) : 0;
  }

  /** What another proxy in front of the same backend found, when it is newer than what this one knows. */
  adopt(remote: SharedCircuit): boolean {
    if (remote.changedAt <= this.changedAt) return false;
    this.changedAt = remote.changedAt;
    this.consecutiveFailures = remote.consecutiveFailures;
    this.lastFailure = remote.state === 'open' ? 'reported by another proxy in front of this backend' : undefined;
    if (remote.state === 'closed') {
      this.state = 'closed';
      this.openedAt = undefined;
    } else {
      this.state = 'open';
      this.openedAt = remote.openedAt ?? remote.changedAt;
    }
    return true;
  }

  /**
   * This circuit as other proxies read it. Without the last failure: that is upstream text,
   * which may quote the key the backend was sent, and Redis is not a place for it.
   */
  shared(): SharedCircuit {
    return {
      state: this.state === 'closed' ? 'closed' : 'open',
      changedAt: this.changedAt,
      consecutiveFailures: this.consecutiveFailures,
      ...(this.openedAt !== undefined ? { openedAt: this.openedAt } : {}),
    };
  }

  /** The cooldown is over: the next trial decides. */
  halfOpen(): void {
    if (this.state === 'open') this.state = 'half-open';
  }

  #tripped(): boolean {
    const { failureThreshold, minRequests, errorRatio } = this.settings;
    if (failureThreshold > 0 && this.consecutiveFailures >= failureThreshold) return true;
    if (minRequests === 0 || this.#outcomes.length < minRequests) return false;
    return this.#outcomes.filter((o) => !o.ok).length / this.#outcomes.length >= errorRatio;
  }

  #note(now: number, ok: boolean): void {
    this.#outcomes.push({ at: now, ok });
    const since = now - this.settings.windowMs;
    while (this.#outcomes.length > 0 && this.#outcomes[0]!.at < since) this.#outcomes.shift();
    // Bounded whatever the traffic: the ratio needs no more than this many.
    if (this.#outcomes.length > 1_000) this.#outcomes.shift();
  }
}
