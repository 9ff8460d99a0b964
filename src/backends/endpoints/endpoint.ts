import type { Backend, BackendEndpoint, BackendHealth, SharedEndpointState } from '../types.js';

const FIRST_COOLDOWN_MS = 2_000;
const LONGEST_COOLDOWN_MS = 30_000;

/**
 * One URL of a backend with several: its requests in flight and its own small breaker. A
 * failure takes it out of the rotation at once; after a cooldown (doubling while it keeps
 * failing) one probe decides whether it comes back.
 */
export class Endpoint implements BackendEndpoint {
  inFlight = 0;
  state: 'up' | 'down' = 'up';
  consecutiveFailures = 0;
  lastFailure?: string;
  latencyMs?: number;
  changedAt = 0;
  #retryAt = 0;
  #probing = false;

  constructor(
    readonly label: string,
    readonly backend: Backend,
    private readonly probeTimeoutMs: number,
  ) {}

  /** Takes requests now; a down endpoint past its cooldown starts its probe (once) and is still skipped. */
  usable(now: number): boolean {
    if (this.state === 'up') return true;
    if (now >= this.#retryAt && !this.#probing) void this.#probe();
    return false;
  }

  get retryAt(): number {
    return this.#retryAt;
  }

  succeeded(latencyMs: number): void {
    this.latencyMs = latencyMs;
    if (this.state === 'down') this.changedAt = Date.now();
    this.state = 'up';
    this.consecutiveFailures = 0;
  }

  failed(reason: string, now = Date.now()): void {
    this.consecutiveFailures++;
    this.lastFailure = reason.slice(0, 300);
    if (this.state === 'up') this.changedAt = now;
    this.state = 'down';
    this.#retryAt = now + Math.min(LONGEST_COOLDOWN_MS, FIRST_COOLDOWN_MS * 2 ** (this.consecutiveFailures - 1));
  }

  shared(): SharedEndpointState {
    return { state: this.state, changedAt: this.changedAt, retryAt: this.#retryAt, consecutiveFailures: this.consecutiveFailures };
  }

  adopt(remote: SharedEndpointState): void {
    if (remote.changedAt <= this.changedAt) return;
    this.state = remote.state;
    this.changedAt = remote.changedAt;
    this.#retryAt = remote.retryAt;
    this.consecutiveFailures = remote.consecutiveFailures;
    if (remote.state === 'down') this.lastFailure = 'reported down by another proxy';
  }

  /** Probes it (for /health and periodic probes); what the probe finds takes it out or brings it back. */
  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const result = await this.backend.health(signal);
    if (result.status === 'down' && this.state === 'up') this.failed(`probe: ${result.detail ?? 'down'}`);
    // Not before its cooldown: a model list that answers says little of a server whose requests failed.
    else if (result.status !== 'down' && this.state === 'down' && Date.now() >= this.#retryAt) this.succeeded(result.latencyMs ?? 0);
    return result;
  }

  async #probe(): Promise<void> {
    this.#probing = true;
    try {
      const result = await this.backend.health(AbortSignal.timeout(this.probeTimeoutMs));
      if (result.status === 'down') this.failed(`probe: ${result.detail ?? 'down'}`);
      else this.succeeded(result.latencyMs ?? 0);
    } catch (error) {
      this.failed(`probe: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.#probing = false;
    }
  }
}
