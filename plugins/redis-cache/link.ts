import { Cluster, Redis } from 'ioredis';
import { safeUrl } from '../../src/cli/ui.js';
import type { Logger } from '../../src/logger.js';
import type { HealthState, StatusSection } from '../../src/kernel/types.js';
import type { RedisSettings } from './options.js';

export type LinkState = 'connecting' | 'up' | 'down';

/** While down, one command a second probes whether Redis is back; the others skip it at once. */
const PROBE_INTERVAL_MS = 1000;

const retryDelay = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

/**
 * The connection to Redis (one node or a Cluster) and its health: commands fail fast (no offline
 * queue, a timeout per command), an outage is logged once when it starts and once when it ends,
 * and ioredis reconnects on its own.
 */
export class RedisLink {
  readonly #client: Redis | Cluster;
  readonly #where: string;
  #state: LinkState = 'connecting';
  #lastError: string | undefined;
  #nextProbe = 0;
  readonly counters = { hits: 0, misses: 0, stores: 0, errors: 0, tooLarge: 0 };

  constructor(
    private readonly settings: RedisSettings,
    private readonly logger: Logger,
  ) {
    const common = {
      password: settings.password,
      tls: settings.tls,
      connectTimeout: settings.connectTimeoutMs,
      commandTimeout: settings.operationTimeoutMs,
      maxRetriesPerRequest: 0,
    };
    if (settings.mode === 'cluster') {
      this.#where = `cluster ${settings.nodes.map((n) => `${n.host}:${n.port}`).join(',')}`;
      this.#client = new Cluster(settings.nodes, {
        enableOfflineQueue: false,
        clusterRetryStrategy: retryDelay,
        redisOptions: common,
      });
    } else {
      this.#where = safeUrl(settings.url);
      this.#client = new Redis(settings.url, { ...common, enableOfflineQueue: false, retryStrategy: retryDelay });
    }
    this.#client.on('ready', () => this.#up());
    this.#client.on('error', (error: Error) => this.#down(error.message));
    this.#client.on('close', () => this.#down('connection closed'));
  }

  get state(): LinkState {
    return this.#state;
  }

  /** Waits (bounded) for the first connection or failure, so the first requests are not needless misses; never throws. */
  async ready(): Promise<void> {
    if (this.#state !== 'connecting') return;
    await new Promise<void>((resolve) => {
      const client = this.#client;
      const timer = setTimeout(done, this.settings.connectTimeoutMs);
      client.once('ready', done);
      client.once('error', done);
      function done() {
        clearTimeout(timer);
        client.off('ready', done);
        client.off('error', done);
        resolve();
      }
    });
    if (this.#state === 'connecting') this.#down(`no connection within ${this.settings.connectTimeoutMs} ms`);
  }

  async get(key: string): Promise<Buffer | undefined> {
    const value = await this.#run(() => this.#client.getBuffer(key));
    if (value) this.counters.hits++;
    else if (value === null) this.counters.misses++;
    return value ?? undefined;
  }

  async set(key: string, value: Buffer, ttlSeconds: number): Promise<void> {
    const done = await this.#run(() => this.#client.set(key, value, 'EX', ttlSeconds));
    if (done !== undefined) this.counters.stores++;
  }

  report(): StatusSection & { redis: LinkState } {
    const status: HealthState = this.#state === 'up' ? 'ok' : this.#state === 'down' ? 'down' : 'unknown';
    return { status, redis: this.#state, mode: this.settings.mode, at: this.#where, ...this.counters, ...(this.#lastError ? { lastError: this.#lastError } : {}) };
  }

  close(): void {
    this.#client.removeAllListeners('close');
    this.#client.removeAllListeners('error');
    this.#client.on('error', () => undefined);
    this.#client.disconnect();
  }

  /** A command's result, or `undefined` when Redis is down, slow or failing. */
  async #run<T>(command: () => Promise<T>): Promise<T | undefined> {
    if (this.#state !== 'up' && Date.now() < this.#nextProbe) return undefined;
    let timer: NodeJS.Timeout | undefined;
    // ioredis' commandTimeout does not cover every path (a Cluster refreshing its slots); this does.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.settings.operationTimeoutMs} ms`)), this.settings.operationTimeoutMs);
    });
    try {
      const result = await Promise.race([command(), timeout]);
      this.#up();
      return result;
    } catch (error) {
      this.counters.errors++;
      this.#down(error instanceof Error ? error.message : String(error));
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #up(): void {
    if (this.#state === 'down') this.logger.info(`Redis at ${this.#where} answers again: caching resumes`);
    this.#state = 'up';
  }

  #down(reason: string): void {
    this.#lastError = reason;
    this.#nextProbe = Date.now() + PROBE_INTERVAL_MS;
    if (this.#state === 'down') return;
    this.#state = 'down';
    this.logger.warn(`Redis at ${this.#where} is unavailable (${reason}); requests go on uncached until it is back`);
  }
}
