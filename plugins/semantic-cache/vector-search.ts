import type { Cluster, Redis } from 'ioredis';
import type { RedisLink } from '../redis-cache/link.js';
import type { SemanticStore } from './store.js';
import { vectorToBuffer, type UnitVector } from './vectors.js';

export type SearchResult =
  | { kind: 'found'; similarity: number; answer: Buffer }
  | { kind: 'none' }
  /** Redis is down or slow: a miss. */
  | { kind: 'unavailable' }
  /** The server refused (no such command, another vector size): use the in-process index instead. */
  | { kind: 'failed'; reason: string };

type Reply<T> = { ok: T } | { error: string };

/**
 * Redis' own nearest-neighbour search (the RediSearch module: Redis Stack, Redis 8): one FLAT
 * index with COSINE distance over the entry hashes, a KNN 1 query filtered by the scope tag.
 * Not exercised by the test suite (Debian's Redis 7.0 has no search module).
 */
export class VectorSearch {
  readonly #name: string;
  #dims: number | undefined;

  constructor(
    private readonly link: RedisLink,
    private readonly store: SemanticStore,
  ) {
    this.#name = `${store.prefix}idx`;
  }

  /** Whether the server has FT.* commands; `undefined` while Redis is unavailable (ask again later). */
  async available(): Promise<boolean | undefined> {
    const reply = await this.#command((redis) => redis.call('FT._LIST'));
    return reply === undefined ? undefined : 'ok' in reply;
  }

  async nearest(scope: string, vector: UnitVector): Promise<SearchResult> {
    const created = await this.#ensureIndex(vector.length);
    if (created !== true) return created;
    const query = `(@scope:{${scope}})=>[KNN 1 @vec $B AS dist]`;
    const reply = await this.#command((redis) =>
      redis.callBuffer('FT.SEARCH', [this.#name, query, 'PARAMS', '2', 'B', vectorToBuffer(vector), 'RETURN', '2', 'dist', 'answer', 'DIALECT', '2']),
    );
    if (!reply) return { kind: 'unavailable' };
    if ('error' in reply) return { kind: 'failed', reason: reply.error };
    const fields = firstDocument(reply.ok);
    const distance = Number(fields?.get('dist')?.toString());
    const answer = fields?.get('answer');
    // COSINE distance is 1 - cosine similarity.
    return answer && Number.isFinite(distance) ? { kind: 'found', similarity: 1 - distance, answer } : { kind: 'none' };
  }

  async #ensureIndex(dims: number): Promise<true | SearchResult> {
    if (this.#dims === dims) return true;
    const { entryPrefix } = this.store;
    const schema = ['SCHEMA', 'scope', 'TAG', 'vec', 'VECTOR', 'FLAT', '6', 'TYPE', 'FLOAT32', 'DIM', String(dims), 'DISTANCE_METRIC', 'COSINE'];
    const reply = await this.#command((redis) => redis.call('FT.CREATE', [this.#name, 'ON', 'HASH', 'PREFIX', '1', entryPrefix, ...schema]));
    if (!reply) return { kind: 'unavailable' };
    if ('error' in reply && !/already exists/i.test(reply.error)) return { kind: 'failed', reason: reply.error };
    this.#dims = dims;
    return true;
  }

  /** An error reply is an answer (the server is up), not an outage of the link. */
  #command<T>(run: (redis: Redis | Cluster) => Promise<T>): Promise<Reply<T> | undefined> {
    return this.link.run(async (redis) => {
      try {
        return { ok: await run(redis) };
      } catch (error) {
        if (error instanceof Error && error.name === 'ReplyError') return { error: error.message };
        throw error;
      }
    });
  }
}

/** `[total, key, [field, value, ...]]` -> the first document's fields. */
function firstDocument(reply: unknown): Map<string, Buffer> | undefined {
  if (!Array.isArray(reply) || !Array.isArray(reply[2])) return undefined;
  const flat: unknown[] = reply[2];
  const fields = new Map<string, Buffer>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i];
    const value = flat[i + 1];
    if (Buffer.isBuffer(name) && Buffer.isBuffer(value)) fields.set(name.toString(), value);
  }
  return fields;
}
