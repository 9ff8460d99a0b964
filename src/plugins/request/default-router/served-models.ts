import type { BackendRegistry } from '../../../kernel/types.js';

const FRESH_MS = 60_000;
/** A list that could not be fetched is asked again soon: the backend may just be starting. */
const FAILED_MS = 5_000;
const TIMEOUT_MS = 2_500;

interface Entry {
  at: number;
  ttl: number;
  list: Promise<string[] | undefined>;
}

/**
 * The models each backend serves (`listModels`), cached briefly and bounded in time, for the
 * router's check of a model name that is neither a Claude name, a mapping nor a backend.
 * `undefined` when the list cannot be had (no `listModels`, an error, a timeout).
 */
export class ServedModels {
  readonly #backends: BackendRegistry;
  readonly #cache = new Map<string, Entry>();

  constructor(backends: BackendRegistry) {
    this.#backends = backends;
  }

  of(name: string): Promise<string[] | undefined> {
    const cached = this.#cache.get(name);
    if (cached && Date.now() - cached.at < cached.ttl) return cached.list;
    const backend = this.#backends.get(name);
    const entry: Entry = { at: Date.now(), ttl: FRESH_MS, list: Promise.resolve(undefined) };
    if (backend?.listModels) {
      entry.list = backend.listModels(AbortSignal.timeout(TIMEOUT_MS)).catch(() => {
        entry.ttl = FAILED_MS;
        return undefined;
      });
    }
    this.#cache.set(name, entry);
    return entry.list;
  }

  /** Every backend's list, at once. */
  async all(): Promise<Array<{ backend: string; models: string[] | undefined }>> {
    const names = this.#backends.names();
    const lists = await Promise.all(names.map((name) => this.of(name)));
    return names.map((backend, i) => ({ backend, models: lists[i] }));
  }
}

/** `qwen3` is `qwen3:latest` to Ollama. */
export const serves = (models: readonly string[], name: string): boolean =>
  models.includes(name) || (!name.includes(':') && models.includes(`${name}:latest`));
