import type { Message, StreamEvent } from '../anthropic/types.js';
import { ProxyError } from '../errors.js';
import type { Backend, BackendHealth, BackendSpec, Plugin, ProviderEnv, ProviderResponse, UpstreamCall } from '../kernel/types.js';
import { UpstreamClient, redactUrl } from '../upstream/http-client.js';
import { parseJSONEvents } from '../upstream/json-stream.js';
import { readSSE } from '../upstream/sse-reader.js';
import { errorFromUpstream } from '../upstream/upstream-error.js';
import { modelMappingOf, optionalNumber, optionalString, optionalStringRecord } from './backend-options.js';
import { createModelResolver, modelIds } from './model-mapping.js';

const FORWARDED_HEADERS = ['anthropic-version', 'anthropic-beta'] as const;

/** Origin (plus any path prefix) without a trailing `/v1`: requests go to `<base>/v1/messages`. */
export function anthropicBaseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** Pass-through to anything that already speaks /v1/messages (Anthropic, Ollama >= 0.14, vLLM, LiteLLM). */
export class AnthropicBackend implements Backend {
  readonly name: string;
  readonly type: string;
  readonly resolveModel: (requested: string) => string;
  readonly #client: UpstreamClient;
  readonly #baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #model: string | undefined;
  readonly #maxTokens: number | undefined;

  constructor(spec: BackendSpec, env: ProviderEnv) {
    const at = `backends.${spec.name}`;
    const mapping = modelMappingOf(spec.options, at);
    this.name = spec.name;
    this.type = spec.type;
    this.resolveModel = createModelResolver(mapping);
    this.#model = mapping.model;
    this.#maxTokens = mapping.maxTokens;
    this.#baseUrl = anthropicBaseUrl(optionalString(spec.options, 'url', at) ?? 'https://api.anthropic.com');
    this.#apiKey = optionalString(spec.options, 'apiKey', at);
    this.#client = new UpstreamClient({
      backend: spec.name,
      baseUrl: this.#baseUrl,
      connectTimeoutMs: env.server.connectTimeoutMs,
      firstByteTimeoutMs: optionalNumber(spec.options, 'firstByteTimeoutMs', at) ?? env.server.firstByteTimeoutMs,
      idleTimeoutMs: env.server.idleTimeoutMs,
      headers: { ...optionalStringRecord(spec.options, 'headers', at), ...(this.#apiKey ? { 'x-api-key': this.#apiKey } : {}) },
    });
  }

  async invoke(call: UpstreamCall): Promise<ProviderResponse> {
    const request = { ...call.request, model: call.model };
    if (this.#maxTokens && request.max_tokens > this.#maxTokens) request.max_tokens = this.#maxTokens;
    const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
    for (const name of FORWARDED_HEADERS) {
      const value = call.context.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    const response = await this.#client.request({
      method: 'POST',
      path: '/v1/messages',
      json: request,
      headers,
      signal: call.signal,
      // A non-streaming answer only arrives once the whole generation is done.
      timeoutMs: call.stream ? undefined : 600_000,
    });
    if (response.status >= 400) throw await errorFromUpstream(response, { backend: this.name, format: 'anthropic' });
    if (!call.stream) return { kind: 'message', message: await response.json<Message>() };
    return { kind: 'stream', events: this.#events(response.body) };
  }

  async *#events(body: AsyncIterable<Uint8Array>): AsyncIterable<StreamEvent> {
    for await (const event of parseJSONEvents<StreamEvent>(readSSE(body), { backend: this.name })) {
      if (event.type === 'error') {
        throw new ProxyError(`upstream stream error: ${event.error.message}`, {
          code: 'upstream_stream_error',
          type: event.error.type,
          backend: this.name,
        });
      }
      yield event;
    }
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    const response = await this.#client.request({
      method: 'GET',
      path: '/v1/models',
      headers: { 'anthropic-version': '2023-06-01' },
      signal,
      timeoutMs: 10_000,
    });
    if (response.status >= 400) throw await errorFromUpstream(response, { backend: this.name, format: 'anthropic' });
    return modelIds(await response.json<{ data?: Array<{ id?: unknown }> }>());
  }

  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const started = Date.now();
    try {
      const models = await this.listModels(signal);
      return { status: 'ok', latencyMs: Date.now() - started, models };
    } catch (error) {
      // Some Anthropic-compatible servers have no /v1/models; reachable is still healthy.
      if (error instanceof ProxyError && error.type === 'not_found_error') return { status: 'ok', latencyMs: Date.now() - started };
      return { status: 'down', latencyMs: Date.now() - started, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  describe(): Record<string, string | number | boolean | undefined> {
    return { type: this.type, url: redactUrl(this.#baseUrl), model: this.#model, apiKey: this.#apiKey ? 'set' : 'not set' };
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

/** Built-in provider type `anthropic`. */
export function anthropicProvider(): Plugin {
  return {
    name: 'anthropic-provider',
    apply({ providers }) {
      providers.register('anthropic', (spec, env) => new AnthropicBackend(spec, env));
    },
  };
}
