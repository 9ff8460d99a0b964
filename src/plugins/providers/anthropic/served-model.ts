import type { MessagesRequest } from '../../../anthropic/types.js';
import { ProxyError } from '../../../errors.js';
import type { ServedModel } from '../../../kernel/types.js';
import { encodeJson, type UpstreamClient } from '../../../upstream/http-client.js';
import { errorFromUpstream } from '../../../upstream/upstream-error.js';
import { entryFor, isLlamaCpp, listedWindow, llamaCppWindow } from '../served-window.js';

// What a server speaking the Messages API says of its models and counts: `/v1/models` (vLLM's
// entries carry `max_model_len`; others `max_input_tokens`, `context_length` or
// `context_window`; llama.cpp's window is its `/props` n_ctx) and
// `POST /v1/messages/count_tokens` where it has one (the API, vLLM, llama.cpp). A server
// without it (404, 405) is not asked again.

const PROBE_TIMEOUT_MS = 5_000;
const COUNT_TIMEOUT_MS = 10_000;
/** The fields `count_tokens` takes; the rest of a Messages request (max_tokens, stream, metadata) it rejects. */
const COUNTED_FIELDS = ['messages', 'system', 'tools', 'tool_choice', 'thinking'] as const;

export class AnthropicServerInfo {
  readonly #client: UpstreamClient;
  readonly #backend: string;
  #counts = true;

  constructor(client: UpstreamClient, backend: string) {
    this.#client = client;
    this.#backend = backend;
  }

  async modelInfo(model: string, signal?: AbortSignal): Promise<ServedModel> {
    const response = await this.#client.request({
      method: 'GET',
      path: '/v1/models',
      headers: { 'anthropic-version': '2023-06-01' },
      signal,
      timeoutMs: PROBE_TIMEOUT_MS,
    });
    if (response.status >= 400) throw await errorFromUpstream(response, { backend: this.#backend, format: 'anthropic' });
    const body = await response.json<{ data?: unknown }>();
    const entries = Array.isArray(body.data) ? body.data.filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null) : [];
    return (isLlamaCpp(entries) ? await llamaCppWindow(this.#client, signal) : undefined) ?? listedWindow(entryFor(entries, model));
  }

  /** The server's count, or undefined when it has no count_tokens. An error it answers with is the client's to see. */
  async countTokens(
    request: MessagesRequest,
    model: string,
    headers: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<number | undefined> {
    if (!this.#counts) return undefined;
    const body: Record<string, unknown> = { model };
    for (const field of COUNTED_FIELDS) if (request[field] !== undefined) body[field] = request[field];
    const response = await this.#client.request({
      method: 'POST',
      path: '/v1/messages/count_tokens',
      json: encodeJson(body),
      headers: { 'content-type': 'application/json', ...headers },
      signal,
      timeoutMs: COUNT_TIMEOUT_MS,
    });
    if (response.status === 404 || response.status === 405 || response.status === 501) {
      await response.text().catch(() => '');
      this.#counts = false;
      return undefined;
    }
    if (response.status >= 400) throw await errorFromUpstream(response, { backend: this.#backend, format: 'anthropic' });
    const counted = await response.json<{ input_tokens?: unknown }>();
    if (typeof counted.input_tokens === 'number' && counted.input_tokens >= 0) return counted.input_tokens;
    throw new ProxyError('The backend answered count_tokens without input_tokens.', { code: 'upstream_bad_response', type: 'api_error', status: 502, backend: this.#backend });
  }
}
