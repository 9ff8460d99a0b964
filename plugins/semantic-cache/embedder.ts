import { ConfigError, DependencyHealth, redactUrl, traced, type BackendRegistry, type DependencyState, type Logger } from '../../src/plugin.js';
import { createOllamaEmbedder, type Embedder } from '../ollama/embed.js';
import { OLLAMA_URL } from '../ollama/options.js';
import { createOpenAIEmbedder } from './openai-embed.js';
import type { EmbedderOptions } from './options.js';
import { toUnit, type UnitVector } from './vectors.js';

export interface EmbedderSource extends Embedder {
  /** For logs and status: type, model, where (no credentials). */
  readonly label: string;
  close?(): Promise<void>;
}

const NAME = 'semantic-cache embedder';

/** The configured embedder; a `backend` one must exist and embed (checked at start-up, once backends are built). */
export function embedderFor(options: EmbedderOptions, backends: BackendRegistry): EmbedderSource {
  if ('backend' in options) {
    const backend = backends.get(options.backend);
    const embed = backend?.embed?.bind(backend);
    if (!embed) {
      const why = backend ? `backend "${options.backend}" (type ${backend.type}) cannot embed` : `there is no backend "${options.backend}"`;
      throw new ConfigError(`${why}; name an ollama backend with an embedModel, or use { type: "ollama" | "openai", ... }`, {
        field: 'plugins.semantic-cache.embedder.backend',
      });
    }
    return { label: `backend ${options.backend}`, embed };
  }
  if (options.type === 'ollama') {
    const source = createOllamaEmbedder({ url: options.url, model: options.model, name: NAME });
    return { ...source, label: `ollama ${options.model} at ${redactUrl(options.url ?? OLLAMA_URL)}` };
  }
  const source = createOpenAIEmbedder({ url: options.url, model: options.model, apiKey: options.apiKey, name: NAME });
  return { ...source, label: `openai ${options.model} at ${redactUrl(options.url)}` };
}

/**
 * The embedder as requests use it: one text, a unit vector or `undefined`, never longer than
 * `timeoutMs`; an outage is logged once when it starts and once when it ends.
 */
export class EmbedderLink {
  readonly #health: DependencyHealth;
  errors = 0;

  constructor(
    readonly source: EmbedderSource,
    private readonly timeoutMs: number,
    logger: Logger,
  ) {
    this.#health = new DependencyHealth(logger, {
      down: (reason) => `the embedder (${source.label}) is unavailable (${reason}); requests go on without semantic lookups until it answers`,
      up: `the embedder (${source.label}) answers again: semantic lookups resume`,
    });
  }

  get state(): DependencyState {
    return this.#health.state;
  }

  get lastError(): string | undefined {
    return this.#health.lastError;
  }

  async vector(text: string, signal?: AbortSignal): Promise<UnitVector | undefined> {
    if (!this.#health.shouldTry()) return undefined;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    const expired = new Promise<never>((_, reject) => deadline.signal.addEventListener('abort', () => reject(deadline.signal.reason as Error), { once: true }));
    try {
      const abort = signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal;
      // Raced as well as aborted: an embedder that ignores its signal still cannot hold the request.
      const embedding = traced({ name: 'embedding', attributes: { 'gen_ai.operation.name': 'embeddings', 'llm_proxy.embedder': this.source.label } }, () =>
        this.source.embed([text], abort),
      );
      const [values] = await Promise.race([embedding, expired]);
      const vector = values ? toUnit(values) : undefined;
      if (!vector) throw new Error('the embedder returned an empty or zero vector');
      this.#health.up();
      return vector;
    } catch (error) {
      if (signal?.aborted && !deadline.signal.aborted) return undefined; // the client left: not the embedder's fault
      this.errors++;
      this.#health.down(deadline.signal.aborted ? `no answer within ${this.timeoutMs} ms` : error instanceof Error ? error.message : String(error));
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }
}
