import { LRUCache } from 'lru-cache';
import type { EntryRef, SemanticStore } from './store.js';
import { bufferToVector, similarity, type UnitVector } from './vectors.js';

interface IndexedVector {
  vector: UnitVector;
  expiresAt: number;
  /** When this copy learnt of it: entries added during a re-read survive it. */
  seenAt: number;
}

interface ScopeCopy {
  entries: Map<string, IndexedVector>;
  syncedAt: number;
}

export interface Candidate {
  id: string;
  similarity: number;
}

const ENTRY_OVERHEAD = 96;

/**
 * The nearest-neighbour search for a Redis without vector search: a copy of each scope's vectors
 * in this process, loaded from Redis on first use and re-read when older than `syncIntervalMs`
 * (that is how answers stored by other proxies arrive). Answers stay in Redis. Scopes are an LRU
 * bounded by the bytes of their vectors.
 */
export class MemoryIndex {
  readonly #scopes: LRUCache<string, ScopeCopy>;
  readonly #loading = new Map<string, Promise<ScopeCopy | undefined>>();

  constructor(
    private readonly store: SemanticStore,
    private readonly syncIntervalMs: number,
    maxBytes: number,
  ) {
    this.#scopes = new LRUCache({ maxSize: maxBytes, sizeCalculation: sizeOf });
  }

  /** Starts reading the scope if this process has no fresh copy (a lookup calls it while the question is embedded). */
  prefetch(scope: string): Promise<unknown> {
    return this.#fresh(scope);
  }

  /** The scope's entries at or above `threshold`, most similar first. */
  async nearest(scope: string, vector: UnitVector, threshold: number): Promise<Candidate[]> {
    const copy = await this.#fresh(scope);
    if (!copy) return [];
    const now = Date.now();
    const found: Candidate[] = [];
    for (const [id, entry] of copy.entries) {
      if (entry.expiresAt <= now) continue;
      const score = similarity(vector, entry.vector);
      if (score >= threshold) found.push({ id, similarity: score });
    }
    return found.sort((a, b) => b.similarity - a.similarity);
  }

  add(scope: string, ref: EntryRef, vector: UnitVector): void {
    const copy = this.#scopes.get(scope);
    if (!copy) return; // read from Redis on first use
    copy.entries.set(ref.id, { vector, expiresAt: ref.expiresAt, seenAt: Date.now() });
    this.#scopes.set(scope, copy);
  }

  forget(scope: string, id: string): void {
    this.#scopes.get(scope)?.entries.delete(id);
  }

  describe(): { scopes: number; vectors: number; bytes: number } {
    let vectors = 0;
    for (const copy of this.#scopes.values()) vectors += copy.entries.size;
    return { scopes: this.#scopes.size, vectors, bytes: this.#scopes.calculatedSize };
  }

  #fresh(scope: string): Promise<ScopeCopy | undefined> {
    const copy = this.#scopes.get(scope);
    if (copy && Date.now() - copy.syncedAt < this.syncIntervalMs) return Promise.resolve(copy);
    let loading = this.#loading.get(scope);
    if (!loading) {
      loading = this.#sync(scope).finally(() => this.#loading.delete(scope));
      this.#loading.set(scope, loading);
    }
    return loading;
  }

  /** Re-reads the scope's ids and fetches only the vectors it does not have; on a Redis failure keeps what it had. */
  async #sync(scope: string): Promise<ScopeCopy | undefined> {
    const startedAt = Date.now();
    const before = this.#scopes.get(scope);
    const refs = await this.store.live(scope);
    if (!refs) return before;
    const missing = refs.filter((ref) => !before?.entries.has(ref.id));
    const buffers = await this.store.vectors(scope, missing.map((ref) => ref.id));
    if (!buffers) return before;
    const entries = new Map<string, IndexedVector>();
    for (const ref of refs) {
      const known = before?.entries.get(ref.id);
      if (known) entries.set(ref.id, known);
    }
    missing.forEach((ref, i) => {
      const buffer = buffers[i];
      const vector = buffer ? bufferToVector(buffer) : undefined;
      if (vector) entries.set(ref.id, { vector, expiresAt: ref.expiresAt, seenAt: startedAt });
    });
    // Answers this process stored while Redis was being read are not in what it returned.
    for (const [id, entry] of this.#scopes.get(scope)?.entries ?? []) {
      if (entry.seenAt >= startedAt) entries.set(id, entry);
    }
    const copy = { entries, syncedAt: Date.now() };
    this.#scopes.set(scope, copy);
    return copy;
  }
}

function sizeOf(copy: ScopeCopy): number {
  let bytes = ENTRY_OVERHEAD;
  for (const entry of copy.entries.values()) bytes += entry.vector.byteLength + ENTRY_OVERHEAD;
  return bytes;
}
