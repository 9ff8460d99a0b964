import type { Backend, BackendRegistry } from '../../kernel/types.js';
import type { Logger } from '../../logger.js';

/** The window a backend serves a model with, and what said so. */
export interface KnownWindow {
  tokens: number;
  source: string;
}

interface Entry {
  window: KnownWindow | undefined;
  /** When to ask the server again (epoch ms). */
  refreshAt: number;
  asking?: Promise<void>;
}

export interface WindowBookSettings {
  /** How long a discovered window is trusted before it is asked again, ms. */
  refreshMs: number;
  /** A server that could not be asked is asked again after this long, ms. */
  retryMs: number;
  /** How long a request waits for the first answer, ms; after that it goes on unchecked. */
  waitMs: number;
}

/**
 * Each backend's window per model: the `contextWindow` of its config entry, else what its
 * server says (`Backend.modelInfo`), asked once and refreshed in the background, so a request
 * waits for the server only the first time (and at most `waitMs`).
 */
export class WindowBook {
  readonly #entries = new Map<string, Entry>();
  readonly #backends: BackendRegistry;
  readonly #log: Logger;
  readonly #settings: WindowBookSettings;
  readonly #warned = new Set<string>();

  constructor(backends: BackendRegistry, log: Logger, settings: WindowBookSettings) {
    this.#backends = backends;
    this.#log = log;
    this.#settings = settings;
  }

  configured(backend: string): number | undefined {
    const value = this.#backends.spec(backend)?.options.contextWindow;
    return typeof value === 'number' ? value : undefined;
  }

  /** The window, or undefined when neither the config nor the server says. */
  async of(backend: Backend, model: string): Promise<KnownWindow | undefined> {
    const configured = this.configured(backend.name);
    if (configured !== undefined) return { tokens: configured, source: 'config contextWindow' };
    if (!backend.modelInfo) return undefined;
    const key = `${backend.name}\0${model}`;
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { window: undefined, refreshAt: 0 };
      this.#entries.set(key, entry);
    }
    if (entry.refreshAt <= Date.now() && !entry.asking) entry.asking = this.#ask(backend, model, entry);
    if (entry.refreshAt === 0 && entry.asking) await waitAtMost(entry.asking, this.#settings.waitMs);
    return entry.window;
  }

  /** Reads a model's window ahead of its first request; a failure is logged only when a request meets it. */
  warm(backend: Backend, model: string): void {
    if (this.configured(backend.name) !== undefined || !backend.modelInfo) return;
    const key = `${backend.name}\0${model}`;
    if (this.#entries.has(key)) return;
    const entry: Entry = { window: undefined, refreshAt: 0 };
    this.#entries.set(key, entry);
    entry.asking = this.#ask(backend, model, entry, true);
  }

  /** Every window known, for `status`. */
  known(): Array<{ backend: string; model: string } & KnownWindow> {
    const out: Array<{ backend: string; model: string } & KnownWindow> = [];
    for (const name of this.#backends.names()) {
      const configured = this.configured(name);
      if (configured !== undefined) out.push({ backend: name, model: '*', tokens: configured, source: 'config contextWindow' });
    }
    for (const [key, entry] of this.#entries) {
      const [backend = '', model = ''] = key.split('\0');
      if (entry.window) out.push({ backend, model, ...entry.window });
    }
    return out;
  }

  async #ask(backend: Backend, model: string, entry: Entry, quiet = false): Promise<void> {
    try {
      const info = await backend.modelInfo!(model, AbortSignal.timeout(10_000));
      entry.window = info.contextWindow ? { tokens: info.contextWindow, source: info.source ?? 'the server' } : undefined;
      entry.refreshAt = Date.now() + this.#settings.refreshMs;
    } catch (error) {
      // The last window known stays: a server that is down for a minute still has the same window.
      // Asked ahead of any request, a failure is asked again by the first request.
      entry.refreshAt = quiet ? 0 : Date.now() + this.#settings.retryMs;
      if (!quiet && !this.#warned.has(backend.name)) {
        this.#warned.add(backend.name);
        this.#log.warn(`backend "${backend.name}": its context window could not be read; requests are not checked against it until it can`, {
          model,
          reason: error instanceof Error ? error.message : String(error),
        });
      }
    } finally {
      entry.asking = undefined;
    }
  }
}

async function waitAtMost(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}
