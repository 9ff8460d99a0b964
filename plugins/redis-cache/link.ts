import { Cluster, Redis } from 'ioredis';
import { DependencyHealth, redactUrl, type HealthState, type Logger, type StatusSection } from '../../src/plugin.js';
import type { RedisConnection } from './options.js';

export type LinkState = 'connecting' | 'up' | 'down';

const retryDelay = (times: number): number => Math.min(50 * 2 ** Math.min(times, 6), 2000);

/**
 * The connection to Redis (one node or a Cluster) and its health: commands fail fast (no offline
 * queue, a timeout per command), an outage is logged once when it starts and once when it ends,
 * and ioredis reconnects on its own.
 */
export class RedisLink {
  readonly #client: Redis | Cluster;
  readonly #where: string;
  readonly #health: DependencyHealth;
  readonly counters = { hits: 0, misses: 0, stores: 0, errors: 0, tooLarge: 0 };

  constructor(
    private readonly settings: RedisConnection,
    logger: Logger,
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
      this.#where = redactUrl(settings.url);
      this.#client = new Redis(settings.url, { ...common, enableOfflineQueue: false, retryStrategy: retryDelay });
    }
    this.#health = new DependencyHealth(logger, {
      down: (reason) => `Redis at ${this.#where} is unavailable (${reason}); requests go on uncached until it is back`,
      up: `Redis at ${this.#where} answers again: caching resumes`,
    });
    this.#client.on('ready', () => this.#health.up());
    this.#client.on('error', (error: Error) => this.#health.down(error.message));
    this.#client.on('close', () => this.#health.down('connection closed'));
  }

  get state(): LinkState {
    const state = this.#health.state;
    return state === 'unknown' ? 'connecting' : state;
  }

  /** Waits (bounded) for the first connection or failure, so the first requests are not needless misses; never throws. */
  async ready(): Promise<void> {
    if (this.state !== 'connecting') return;
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
    if (this.state === 'connecting') this.#health.down(`no connection within ${this.settings.connectTimeoutMs} ms`);
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

  /** Any command (a pipeline, a MULTI) under the same rules: `undefined` when Redis is down, slow or failing. */
  run<T>(command: (client: Redis | Cluster) => Promise<T>): Promise<T | undefined> {
    return this.#run(() => command(this.#client));
  }

  report(): StatusSection & { redis: LinkState } {
    const state = this.state;
    const status: HealthState = state === 'up' ? 'ok' : state === 'down' ? 'down' : 'unknown';
    const { lastError } = this.#health;
    return { status, redis: state, mode: this.settings.mode, at: this.#where, ...this.counters, ...(lastError ? { lastError } : {}) };
  }

  close(): void {
    this.#client.removeAllListeners('close');
    this.#client.removeAllListeners('error');
    this.#client.on('error', () => undefined);
    this.#client.disconnect();
  }

  /** A command's result, or `undefined` when Redis is down, slow or failing. */
  async #run<T>(command: () => Promise<T>): Promise<T | undefined> {
    if (!this.#health.shouldTry()) return undefined;
    let timer: NodeJS.Timeout | undefined;
    // ioredis' commandTimeout does not cover every path (a Cluster refreshing its slots); this does.
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.settings.operationTimeoutMs} ms`)), this.settings.operationTimeoutMs);
    });
    try {
      const result = await Promise.race([command(), timeout]);
      this.#health.up();
      return result;
    } catch (error) {
      this.counters.errors++;
      this.#health.down(error instanceof Error ? error.message : String(error));
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
