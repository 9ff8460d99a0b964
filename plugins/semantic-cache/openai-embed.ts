import { errorFromUpstream, ProxyError, UpstreamClient } from '../../src/plugin.js';
import { isVector, type Embedder } from '../ollama/embed.js';

export interface OpenAIEmbedderOptions {
  /** The API base, e.g. `https://api.openai.com/v1` or `http://gpu:8000/v1`; `/embeddings` is appended. */
  url: string;
  model: string;
  apiKey?: string;
  /** Named in errors. */
  name: string;
}

interface EmbeddingsResponse {
  data?: Array<{ index?: number; embedding?: unknown }>;
}

/** `POST <url>/embeddings {model, input}` -> `data[].embedding`, for any OpenAI-compatible server. */
export function createOpenAIEmbedder(options: OpenAIEmbedderOptions): Embedder & { close(): Promise<void> } {
  const client = new UpstreamClient({
    backend: options.name,
    baseUrl: options.url,
    connectTimeoutMs: 5_000,
    firstByteTimeoutMs: 60_000,
    idleTimeoutMs: 60_000,
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
  });
  return {
    async embed(texts, signal) {
      if (texts.length === 0) return [];
      const response = await client.request({
        method: 'POST',
        path: '/embeddings',
        body: JSON.stringify({ model: options.model, input: texts, encoding_format: 'float' }),
        signal,
      });
      if (response.status >= 400) throw await errorFromUpstream(response, { backend: options.name, format: 'openai' });
      const { data } = await response.json<EmbeddingsResponse>();
      const ordered = Array.isArray(data) ? [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((item) => item.embedding) : [];
      if (ordered.length !== texts.length || !ordered.every(isVector)) {
        throw new ProxyError(`${client.safeBaseUrl}/embeddings did not return one vector per text for model "${options.model}"`, {
          code: 'upstream_malformed',
          type: 'api_error',
          status: 502,
          backend: options.name,
        });
      }
      return ordered;
    },
    close: () => client.close(),
  };
}
