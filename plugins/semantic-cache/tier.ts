import { createHash } from 'node:crypto';
import { decodeAnswer, encodeAnswer, type CachedAnswer, type CacheKeys, type HealthState, type Logger, type StatusSection } from '../../src/plugin.js';
import { decodeValue, encodeValue } from '../redis-cache/codec.js';
import { RedisLink } from '../redis-cache/link.js';
import type { EmbedderLink } from './embedder.js';
import { MemoryIndex } from './memory-index.js';
import type { SemanticSettings } from './options.js';
import { questionOf, type Question } from './question.js';
import { SemanticStore } from './store.js';
import { VectorSearch } from './vector-search.js';
import type { UnitVector } from './vectors.js';

type IndexMode = 'detecting' | 'redis-search' | 'memory';

/** Answers larger than this (bytes of JSON) are stored compressed, as redis-cache does. */
const COMPRESS_ABOVE = 16 * 1024;
/** Candidates tried when the best one's answer is already gone from Redis. */
const MAX_TRIES = 3;

/** The semantic tier's state: Redis, the index (Redis' vector search or the in-process copy), and counters. */
export class SemanticTier {
  readonly #redis: RedisLink;
  readonly #store: SemanticStore;
  readonly #search: VectorSearch;
  readonly #memory: MemoryIndex;
  #mode: IndexMode;
  #detecting: Promise<void> | undefined;
  #embedder: EmbedderLink | undefined;
  /** What `get` worked out, for `set` after a miss (no second embedding). */
  readonly #asked = new WeakMap<CacheKeys, { question: Question; vector: UnitVector }>();
  readonly counters = { lookups: 0, hits: 0, misses: 0, skipped: 0, unavailable: 0, stores: 0, tooLarge: 0 };

  constructor(
    private readonly settings: SemanticSettings,
    embedderIdentity: string,
    private readonly logger: Logger,
  ) {
    this.#redis = new RedisLink(settings.redis, logger);
    const space = createHash('sha256').update(embedderIdentity).digest('hex').slice(0, 16);
    this.#store = new SemanticStore(this.#redis, space, settings.maxEntriesPerScope);
    this.#search = new VectorSearch(this.#redis, this.#store);
    this.#memory = new MemoryIndex(this.#store, settings.syncIntervalMs, settings.maxIndexBytes);
    // A Cluster spreads scopes over nodes, and each node's search index sees only its own.
    this.#mode = settings.vectorSearch === 'off' || settings.redis.mode === 'cluster' ? 'memory' : 'detecting';
  }

  async start(embedder: EmbedderLink): Promise<void> {
    this.#embedder = embedder;
    await this.#redis.ready();
    await this.#index();
  }

  async get(keys: CacheKeys, signal: AbortSignal): Promise<CachedAnswer | undefined> {
    const question = questionOf(keys, this.settings.maxTextChars);
    if (!question || !this.#embedder) {
      this.counters.skipped++;
      return undefined;
    }
    this.counters.lookups++;
    const mode = this.#mode;
    const [vector] = await Promise.all([this.#embedder.vector(question.text, signal), mode === 'memory' ? this.#memory.prefetch(question.scope) : undefined]);
    const answer = vector ? await this.#find(question, vector) : undefined;
    if (vector) this.#asked.set(keys, { question, vector });
    if (answer) this.counters.hits++;
    else if (vector && this.#redis.state === 'up') this.counters.misses++;
    else this.counters.unavailable++;
    return answer;
  }

  async set(keys: CacheKeys, answer: CachedAnswer, ttlSeconds: number): Promise<void> {
    const asked = this.#asked.get(keys);
    const question = asked?.question ?? questionOf(keys, this.settings.maxTextChars);
    if (!question || !this.#embedder) return;
    const vector = asked?.vector ?? (await this.#embedder.vector(question.text));
    if (!vector) return;
    const text = encodeAnswer(answer);
    if (Buffer.byteLength(text) > this.settings.maxEntryBytes) {
      this.counters.tooLarge++;
      return;
    }
    const ref = await this.#store.add(question.scope, vector, await encodeValue(text, COMPRESS_ABOVE, 'brotli'), ttlSeconds);
    if (!ref) return;
    this.counters.stores++;
    this.#memory.add(question.scope, ref, vector);
  }

  describe(): Record<string, unknown> {
    return { index: this.#mode, ...(this.#mode === 'memory' ? this.#memory.describe() : {}) };
  }

  report(): StatusSection {
    const redis = this.#redis.report();
    const embedder = this.#embedder;
    const down = redis.redis === 'down' || embedder?.state === 'down';
    const status: HealthState = down ? 'down' : redis.redis === 'up' ? 'ok' : 'unknown';
    return {
      status,
      redis: redis.redis,
      at: redis.at,
      embedder: embedder?.source.label,
      embedderState: embedder?.state,
      threshold: this.settings.threshold,
      ...this.describe(),
      ...this.counters,
      embedErrors: embedder?.errors ?? 0,
      ...(redis.lastError === undefined ? {} : { lastRedisError: redis.lastError }),
      ...(embedder?.lastError === undefined ? {} : { lastEmbedError: embedder.lastError }),
    };
  }

  close(): void {
    this.#redis.close();
  }

  async #find(question: Question, vector: UnitVector): Promise<CachedAnswer | undefined> {
    const mode = await this.#index();
    if (mode === 'redis-search') {
      const found = await this.#search.nearest(question.scope, vector);
      if (found.kind === 'found') return found.similarity >= this.settings.threshold ? decode(found.answer) : undefined;
      if (found.kind !== 'failed') return undefined;
      this.logger.warn(`Redis' vector search failed (${found.reason}); using the in-process index from now on`);
      this.#mode = 'memory';
    }
    if (this.#mode !== 'memory') return undefined;
    const candidates = await this.#memory.nearest(question.scope, vector, this.settings.threshold);
    for (const candidate of candidates.slice(0, MAX_TRIES)) {
      const value = await this.#store.answer(question.scope, candidate.id);
      if (value === undefined) return undefined;
      const answer = value && (await decode(value));
      if (answer) return answer;
      this.#memory.forget(question.scope, candidate.id);
    }
    return undefined;
  }

  /** Asks the server once whether it has vector search (again after an outage hid the answer). */
  async #index(): Promise<IndexMode> {
    if (this.#mode !== 'detecting') return this.#mode;
    this.#detecting ??= this.#search.available().then((found) => {
      this.#detecting = undefined;
      if (found === undefined) return;
      this.#mode = found ? 'redis-search' : 'memory';
      this.logger.info(`semantic cache: ${found ? "Redis' vector search (FT.SEARCH)" : 'the in-process index (Redis has no search module)'} finds similar questions`);
    });
    await this.#detecting;
    return this.#mode;
  }
}

async function decode(value: Buffer): Promise<CachedAnswer | undefined> {
  const text = await decodeValue(value);
  return text === undefined ? undefined : decodeAnswer(text);
}
