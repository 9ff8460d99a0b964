import { randomBytes } from 'node:crypto';
import type { RedisLink } from '../redis-cache/link.js';
import { vectorToBuffer, type UnitVector } from './vectors.js';

/** A stored answer's id and when it expires (ms since the epoch). */
export interface EntryRef {
  id: string;
  expiresAt: number;
}

/**
 * The Redis layout, under `llmp:v1:sem:<space>:` (the space is a hash of the embedding model):
 *
 * - `e:{<scope>}:<id>`: a HASH per answer, `scope` (the scope hash), `vec` (Float32 little-endian),
 *   `answer` (the redis-cache codec: marker byte, then JSON or compressed JSON), with the answer's TTL;
 * - `s:{<scope>}`: a ZSET of the scope's ids scored by expiry, for the in-process index and trimming.
 *
 * The `{<scope>}` hash tag keeps a scope in one Redis Cluster slot, so its commands can share a MULTI.
 */
export class SemanticStore {
  readonly prefix: string;

  constructor(
    private readonly link: RedisLink,
    space: string,
    private readonly maxEntriesPerScope: number,
  ) {
    this.prefix = `llmp:v1:sem:${space}:`;
  }

  /** What the vector search index covers. */
  get entryPrefix(): string {
    return `${this.prefix}e:`;
  }

  entryKey(scope: string, id: string): string {
    return `${this.entryPrefix}{${scope}}:${id}`;
  }

  scopeKey(scope: string): string {
    return `${this.prefix}s:{${scope}}`;
  }

  /** Stores one answer and its vector; the scope keeps at most `maxEntriesPerScope`, the soonest to expire go first. */
  async add(scope: string, vector: UnitVector, answer: Buffer, ttlSeconds: number): Promise<EntryRef | undefined> {
    const id = randomBytes(9).toString('base64url');
    const now = Date.now();
    const expiresAt = now + ttlSeconds * 1000;
    const entry = this.entryKey(scope, id);
    const index = this.scopeKey(scope);
    const results = await this.link.run((redis) =>
      redis
        .multi()
        .hset(entry, 'scope', scope, 'vec', vectorToBuffer(vector), 'answer', answer)
        .expire(entry, ttlSeconds)
        .zremrangebyscore(index, '-inf', now)
        .zadd(index, expiresAt, id)
        .expire(index, ttlSeconds)
        .zcard(index)
        .exec(),
    );
    const count = results?.at(-1)?.[1];
    if (!results || results.some(([error]) => error) || typeof count !== 'number') return undefined;
    if (count > this.maxEntriesPerScope) await this.#trim(scope, count - this.maxEntriesPerScope);
    return { id, expiresAt };
  }

  /** The scope's live entries, the latest `maxEntriesPerScope`; `undefined` when Redis is unavailable. */
  async live(scope: string): Promise<EntryRef[] | undefined> {
    const flat = await this.link.run((redis) => redis.zrevrangebyscore(this.scopeKey(scope), '+inf', Date.now(), 'WITHSCORES', 'LIMIT', 0, this.maxEntriesPerScope));
    if (!flat) return undefined;
    const refs: EntryRef[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) refs.push({ id: flat[i]!, expiresAt: Number(flat[i + 1]) });
    return refs;
  }

  /** The vectors of these entries (`null` for one that is gone); `undefined` when Redis is unavailable. */
  async vectors(scope: string, ids: readonly string[]): Promise<Array<Buffer | null> | undefined> {
    if (ids.length === 0) return [];
    const results = await this.link.run((redis) => {
      const pipeline = redis.pipeline();
      for (const id of ids) pipeline.hgetBuffer(this.entryKey(scope, id), 'vec');
      return pipeline.exec();
    });
    if (!results) return undefined;
    return results.map(([error, value]) => (!error && Buffer.isBuffer(value) ? value : null));
  }

  /** The stored answer; `null` when it is gone (expired, trimmed), `undefined` when Redis is unavailable. */
  answer(scope: string, id: string): Promise<Buffer | null | undefined> {
    return this.link.run((redis) => redis.hgetBuffer(this.entryKey(scope, id), 'answer'));
  }

  async #trim(scope: string, excess: number): Promise<void> {
    const popped = await this.link.run((redis) => redis.zpopmin(this.scopeKey(scope), excess));
    const ids = (popped ?? []).filter((_, i) => i % 2 === 0);
    if (ids.length > 0) await this.link.run((redis) => redis.del(...ids.map((id) => this.entryKey(scope, id))));
  }
}
