import type { MessagesRequest } from '../../../anthropic/types.js';
import type { ServedModel } from '../../../kernel/types.js';
import { toOpenAIRequest } from '../../../openai/request.js';
import { encodeJson, type UpstreamClient } from '../../../upstream/http-client.js';
import { errorFromUpstream } from '../../../upstream/upstream-error.js';
import { entryFor, isLlamaCpp, listedWindow, llamaCppWindow, type ModelEntry } from '../served-window.js';

// What an OpenAI-compatible server says of itself beyond Chat Completions: its kind (from
// `owned_by` in /v1/models), each model's window, and a tokenizer where it has one.
//   vLLM:      /v1/models `max_model_len`; POST /tokenize {model, messages, tools} -> {count}
//   SGLang:    /v1/models `max_model_len`; no chat tokenizer endpoint
//   llama.cpp: GET /props `default_generation_settings.n_ctx` (per slot, what it serves);
//              POST /apply-template {messages, tools} -> {prompt}, POST /tokenize {content} -> {tokens}
//   others:    /v1/models `context_length` / `context_window` where they say (OpenRouter, Groq)

export type ServerKind = 'vllm' | 'sglang' | 'llama.cpp' | 'other';

const PROBE_TIMEOUT_MS = 5_000;
const COUNT_TIMEOUT_MS = 10_000;

const positive = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined);

export class OpenAIServerInfo {
  readonly #client: UpstreamClient;
  readonly #backend: string;
  #kind: ServerKind | undefined;

  constructor(client: UpstreamClient, backend: string) {
    this.#client = client;
    this.#backend = backend;
  }

  async modelInfo(model: string, signal?: AbortSignal): Promise<ServedModel> {
    const entries = await this.#models(signal);
    this.#kind = kindOf(entries);
    return (this.#kind === 'llama.cpp' ? await llamaCppWindow(this.#client, signal) : undefined) ?? listedWindow(entryFor(entries, model));
  }

  /** Exact input tokens where the server has a tokenizer for chat messages; undefined where it has none. */
  async countTokens(request: MessagesRequest, model: string, signal?: AbortSignal): Promise<number | undefined> {
    // A server that cannot be asked now is asked again next time.
    const kind = (this.#kind ??= await this.#models(signal).then(kindOf, () => undefined)) ?? 'other';
    if (kind !== 'vllm' && kind !== 'llama.cpp') return undefined;
    // The messages and tools exactly as a chat request would send them, so the server's chat template sees the same.
    const chat = toOpenAIRequest(request, { model, stream: false });
    const conversation = { model, messages: chat.messages, ...(chat.tools ? { tools: chat.tools } : {}) };
    if (kind === 'vllm') {
      const counted = await this.#post<{ count?: unknown }>('/tokenize', { ...conversation, add_generation_prompt: true }, signal);
      return positive(counted.count) ?? undefined;
    }
    const templated = await this.#post<{ prompt?: unknown }>('/apply-template', conversation, signal);
    if (typeof templated.prompt !== 'string') return undefined;
    const tokens = await this.#post<{ tokens?: unknown }>('/tokenize', { content: templated.prompt, add_special: true }, signal);
    return Array.isArray(tokens.tokens) ? tokens.tokens.length : undefined;
  }

  async #models(signal?: AbortSignal): Promise<ModelEntry[]> {
    const response = await this.#client.request({ method: 'GET', path: '/models', signal, timeoutMs: PROBE_TIMEOUT_MS });
    if (response.status >= 400) throw await errorFromUpstream(response, { backend: this.#backend, format: 'openai' });
    const body = await response.json<{ data?: unknown }>();
    return Array.isArray(body.data) ? body.data.filter((entry): entry is ModelEntry => typeof entry === 'object' && entry !== null) : [];
  }

  async #post<T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> {
    const response = await this.#client.request({
      method: 'POST',
      path,
      fromOrigin: true,
      json: encodeJson(body),
      headers: { 'content-type': 'application/json' },
      signal,
      timeoutMs: COUNT_TIMEOUT_MS,
    });
    if (response.status >= 400) throw await errorFromUpstream(response, { backend: this.#backend, format: 'openai' });
    const parsed = await response.json<unknown>();
    return (typeof parsed === 'object' && parsed !== null ? parsed : {}) as T;
  }
}

function kindOf(entries: readonly ModelEntry[]): ServerKind {
  const owner = entries.map((entry) => entry.owned_by).find((value) => typeof value === 'string');
  if (owner === 'vllm') return 'vllm';
  if (owner === 'sglang') return 'sglang';
  return isLlamaCpp(entries) ? 'llama.cpp' : 'other';
}
