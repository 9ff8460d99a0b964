import type { Message, MessagesRequest, StreamEvent } from '../../../anthropic/types.js';
import { ProxyError, type ProxyErrorCode } from '../../../errors.js';
import type { Backend, BackendHealth, BackendSpec, Plugin, ProviderEnv, ProviderResponse, ServedModel, UpstreamCall } from '../../../kernel/types.js';
import { AnthropicServerInfo } from './served-model.js';
import { UpstreamClient, encodeJson, redactUrl } from '../../../upstream/http-client.js';
import { parseJSONEvents } from '../../../upstream/json-stream.js';
import { readSSE } from '../../../upstream/sse-reader.js';
import { errorFromUpstream } from '../../../upstream/upstream-error.js';
import { anthropicOptions, type AnthropicOptions } from './options.js';
import { reportQuota } from '../../../upstream/rate-limit-headers.js';
import { createModelResolver, modelIds } from '../../../plugin-kit/model-mapping.js';
import { bodyKind, unexpectedBody } from '../../../plugin-kit/unexpected-body.js';
import { forSigner, markMessage, signerOf, streamMarker } from '../../../anthropic/thinking-signatures.js';
import { capabilitiesOf, defaultServerKind, type Capabilities, type ServerKind } from './capabilities.js';
import { adaptBetas, adaptBody, type Stripped } from './adapt-request.js';

export { PRESETS, SERVER_KINDS, type Capabilities, type ServerKind } from './capabilities.js';

/** Names what the proxy took out of the request for this backend (capabilities.ts). */
const STRIPPED_HEADER = 'x-llm-proxy-stripped';

/** The body's fields first, then the betas (`beta:<name>`), each in the order found. */
const strippedList = (stripped: Stripped): string =>
  [...stripped].sort((a, b) => Number(a.startsWith('beta:')) - Number(b.startsWith('beta:'))).join(', ');

/** Origin (plus any path prefix) without a trailing `/v1`: requests go to `<base>/v1/messages`. */
export function anthropicBaseUrl(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/** Pass-through to anything that already speaks /v1/messages (Anthropic, Ollama >= 0.14, vLLM, LiteLLM). */
export class AnthropicBackend implements Backend {
  readonly name: string;
  readonly type: string;
  readonly resolveModel: (requested: string) => string;
  readonly isAnthropicApi: boolean;
  readonly #client: UpstreamClient;
  readonly #baseUrl: string;
  readonly #apiKey: string | undefined;
  readonly #model: string | undefined;
  readonly #maxTokens: number | undefined;
  /** Marks the thinking signatures this upstream issues (src/anthropic/thinking-signatures.ts). */
  readonly #signer: string;
  readonly #server: ServerKind;
  readonly #accepts: Capabilities;
  readonly #info: AnthropicServerInfo;

  constructor(spec: BackendSpec<AnthropicOptions>, env: ProviderEnv) {
    const mapping = spec.options;
    this.name = spec.name;
    this.type = spec.type;
    this.resolveModel = createModelResolver(mapping);
    this.#model = mapping.model;
    this.#maxTokens = mapping.maxTokens;
    this.#baseUrl = anthropicBaseUrl(spec.options.url ?? 'https://api.anthropic.com');
    this.#apiKey = spec.options.apiKey;
    this.#signer = signerOf(this.#baseUrl);
    this.#server = spec.options.server ?? defaultServerKind(this.#baseUrl);
    this.#accepts = capabilitiesOf(this.#server, spec.options.accepts);
    this.isAnthropicApi = this.#server === 'anthropic-api';
    this.#client = new UpstreamClient({
      backend: spec.name,
      baseUrl: this.#baseUrl,
      connectTimeoutMs: env.server.connectTimeoutMs,
      firstByteTimeoutMs: spec.options.firstByteTimeoutMs ?? env.server.firstByteTimeoutMs,
      idleTimeoutMs: env.server.idleTimeoutMs,
      headers: { ...spec.options.headers, ...(this.#apiKey ? { 'x-api-key': this.#apiKey } : {}) },
    });
    this.#info = new AnthropicServerInfo(this.#client, spec.name);
  }

  async invoke(call: UpstreamCall): Promise<ProviderResponse> {
    const stripped: Stripped = new Set();
    const headers: Record<string, string> = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' };
    const { 'anthropic-version': version, 'anthropic-beta': betas } = call.context.headers;
    if (typeof version === 'string') headers['anthropic-version'] = version;
    const beta = typeof betas === 'string' ? adaptBetas(betas, this.#accepts, stripped) : undefined;
    if (beta !== undefined) headers['anthropic-beta'] = beta;
    const response = await this.#client.request({
      method: 'POST',
      path: '/v1/messages',
      json: encodeJson(this.#upstreamBody(call.takeRequest(), call.model, stripped)),
      headers,
      signal: call.signal,
      // A non-streaming answer only arrives once the whole generation is done.
      timeoutMs: call.stream ? undefined : 600_000,
    });
    // Set or cleared on every attempt: a failover's earlier attempt may have gone to another backend.
    if (stripped.size > 0) call.context.responseHeaders[STRIPPED_HEADER] = strippedList(stripped);
    else delete call.context.responseHeaders[STRIPPED_HEADER];
    reportQuota(call.context, this.name, response);
    if (response.status >= 400) {
      throw await errorFromUpstream(response, { backend: this.name, format: 'anthropic', verbatim: this.isAnthropicApi });
    }
    // Read by what arrived, not by what was asked: some servers stream regardless, or never do.
    const kind = bodyKind(response.headers['content-type']);
    if (kind === 'json') return { kind: 'message', message: markMessage(this.#checkMessage(await response.json<unknown>()), this.#signer) };
    if (kind === 'other') {
      throw await unexpectedBody(response, { backend: this.name, url: redactUrl(this.#baseUrl), api: 'Anthropic-compatible API (/v1/messages)' });
    }
    return { kind: 'stream', events: this.#events(response.body) };
  }

  /** The one copy of the request: top-level fields; nested ones are copied only where they change. */
  #upstreamBody(request: MessagesRequest, model: string, stripped: Stripped): MessagesRequest {
    const body = { ...(this.#accepts.signatures ? forSigner(request, this.#signer) : request), model };
    adaptBody(body, this.#accepts, stripped);
    if (this.#maxTokens && body.max_tokens > this.#maxTokens) body.max_tokens = this.#maxTokens;
    return body;
  }

  /** A stream is whole only with its message_stop; one that just stops is an error, never a short answer. */
  async *#events(body: AsyncIterable<Uint8Array>): AsyncIterable<StreamEvent> {
    let events = 0;
    let stopped = false;
    const mark = streamMarker(this.#signer);
    for await (const event of parseJSONEvents<StreamEvent>(readSSE(body), { backend: this.name })) {
      if (event.type === 'error') {
        throw new ProxyError(`upstream stream error: ${event.error.message}`, {
          code: 'upstream_stream_error',
          type: event.error.type,
          backend: this.name,
          ...(this.isAnthropicApi ? { upstreamMessage: event.error.message } : {}),
        });
      }
      events++;
      if (event.type === 'message_stop') stopped = true;
      yield mark(event);
    }
    if (stopped) return;
    throw new ProxyError(
      events === 0 ? 'The backend answered HTTP 200 with an empty event stream.' : 'The backend stream ended before message_stop: the answer is incomplete.',
      {
        code: events === 0 ? 'upstream_empty' : 'upstream_incomplete',
        type: 'api_error',
        status: 502,
        backend: this.name,
        recommendations: [
          events === 0
            ? 'check that the backend URL points at an Anthropic-compatible API and the backend log for a failed generation'
            : 'retry; if it keeps happening, check the backend log and anything between the proxy and the backend (a tunnel or gateway that cuts long responses)',
        ],
      },
    );
  }

  /** A 200 JSON body is trusted only as far as the kernel relies on it: a message with a content array. */
  #checkMessage(body: unknown): Message {
    const record = typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
    if (record?.type === 'message' && Array.isArray(record.content)) return record as unknown as Message;
    const error = record?.error as { type?: unknown; message?: unknown } | undefined;
    if (record?.type === 'error' && typeof error?.message === 'string') {
      return this.#fail(`The backend answered HTTP 200 with an error (${String(error.type)}): ${error.message}`, 'upstream_error_body');
    }
    const keys = record ? Object.keys(record).slice(0, 10).join(', ') || 'none' : typeof body;
    return this.#fail(`The backend answered HTTP 200 with JSON that is not a message (keys: ${keys}).`, 'upstream_bad_response');
  }

  #fail(message: string, code: ProxyErrorCode): never {
    throw new ProxyError(message, {
      code,
      type: 'api_error',
      status: 502,
      backend: this.name,
      recommendations: ['check that the backend URL points at an Anthropic-compatible API (/v1/messages) and the backend log'],
    });
  }

  modelInfo(model: string, signal?: AbortSignal): Promise<ServedModel> {
    return this.#info.modelInfo(model, signal);
  }

  countTokens(request: MessagesRequest, model: string, signal?: AbortSignal): Promise<number | undefined> {
    // Adapted as a Messages request is: a server that refuses a field there refuses it here too.
    return this.#info.countTokens(this.#upstreamBody(request, model, new Set()), model, { 'anthropic-version': '2023-06-01' }, signal);
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
      if (error instanceof ProxyError && error.code === 'upstream_404') return { status: 'ok', latencyMs: Date.now() - started };
      return { status: 'down', latencyMs: Date.now() - started, detail: error instanceof Error ? error.message : String(error) };
    }
  }

  describe(): Record<string, string | number | boolean | undefined> {
    return { type: this.type, url: redactUrl(this.#baseUrl), server: this.#server, model: this.#model, apiKey: this.#apiKey ? 'set' : 'not set' };
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
      providers.register('anthropic', { options: anthropicOptions, create: (spec, env) => new AnthropicBackend(spec, env) });
    },
  };
}
