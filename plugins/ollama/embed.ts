import { errorFromUpstream, ProxyError, UpstreamClient } from '../../src/plugin.js';
import { refineOllamaError } from './errors.js';
import { MIN_LOAD_TIMEOUT_MS, OLLAMA_URL, ollamaBaseUrl } from './options.js';
import type { OllamaEmbedResponse } from './types.js';

/** Turns texts into vectors, one per text, in order (what a semantic cache needs). */
export interface Embedder {
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]>;
}

export interface EmbedTarget {
  client: UpstreamClient;
  backend: string;
  model: string;
  loadTimeoutMs: number;
}

/** `POST /api/embed {model, input}` -> `embeddings`, checked to hold one vector per text. */
export async function embedWith(target: EmbedTarget, texts: string[], signal?: AbortSignal): Promise<number[][]> {
  if (texts.length === 0) return [];
  const scope = { backend: target.backend, model: target.model, url: target.client.safeBaseUrl, loadTimeoutMs: target.loadTimeoutMs };
  let response;
  try {
    response = await target.client.request({
      method: 'POST',
      path: '/api/embed',
      body: JSON.stringify({ model: target.model, input: texts }),
      signal,
    });
  } catch (error) {
    throw error instanceof ProxyError ? refineOllamaError(error, scope) : error;
  }
  if (response.status >= 400) {
    const error = await errorFromUpstream(response, { backend: target.backend, format: 'openai' });
    throw refineOllamaError(error, scope);
  }
  const { embeddings } = await response.json<OllamaEmbedResponse>();
  const valid = Array.isArray(embeddings) && embeddings.length === texts.length && embeddings.every(isVector);
  if (!valid) {
    throw new ProxyError(`Ollama's /api/embed did not return one vector per text for model "${target.model}"`, {
      code: 'upstream_malformed',
      type: 'api_error',
      status: 502,
      backend: target.backend,
      recommendations: [`check that "${target.model}" is an embedding model (\`ollama show ${target.model}\` lists "embedding")`],
    });
  }
  return embeddings;
}

export function isVector(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => typeof n === 'number');
}

export interface OllamaEmbedderOptions {
  /** Default `http://127.0.0.1:11434`. */
  url?: string;
  /** An embedding model, e.g. `nomic-embed-text`. */
  model: string;
  /** Named in errors; default `ollama-embed`. */
  name?: string;
  connectTimeoutMs?: number;
  /** Time allowed for the first answer while Ollama loads the model; default 300000. */
  loadTimeoutMs?: number;
}

/**
 * An embedder on its own, for plugins that want vectors without configuring a backend:
 * `const embedder = createOllamaEmbedder({ model: 'nomic-embed-text' })`. `close()` releases
 * its connections.
 */
export function createOllamaEmbedder(options: OllamaEmbedderOptions): Embedder & { close(): Promise<void> } {
  if (!options.model) throw new ProxyError('createOllamaEmbedder needs a model', { code: 'invalid_options', type: 'api_error' });
  const backend = options.name ?? 'ollama-embed';
  const loadTimeoutMs = options.loadTimeoutMs ?? MIN_LOAD_TIMEOUT_MS;
  const client = new UpstreamClient({
    backend,
    baseUrl: ollamaBaseUrl(options.url ?? OLLAMA_URL),
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    firstByteTimeoutMs: loadTimeoutMs,
    idleTimeoutMs: loadTimeoutMs,
  });
  const target: EmbedTarget = { client, backend, model: options.model, loadTimeoutMs };
  return {
    embed: (texts, signal) => embedWith(target, texts, signal),
    close: () => client.close(),
  };
}
