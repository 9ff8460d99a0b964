import type { MessagesRequest } from '../../../anthropic/types.js';
import type { ModelMapping } from '../../../config/types.js';
import { ConfigError, ProxyError } from '../../../errors.js';
import type {
  Backend,
  BackendHealth,
  BackendSpec,
  Plugin,
  ProviderEnv,
  ProviderResponse,
  ProxyContext,
  ServedModel,
  UpstreamCall,
} from '../../../kernel/types.js';
import { OpenAIServerInfo } from './server-info.js';
import { toOpenAIRequest } from '../../../openai/request.js';
import { translateOpenAISSE } from '../../../openai/stream.js';
import { fromOpenAIResponse } from '../../../openai/response.js';
import type { ChatCompletion, ChatCompletionRequest } from '../../../openai/types.js';
import { UpstreamClient, encodeJson, redactUrl, type UpstreamResponse } from '../../../upstream/http-client.js';
import { errorFromUpstream } from '../../../upstream/upstream-error.js';
import { createModelResolver, modelIds } from '../../../plugin-kit/model-mapping.js';
import { openaiOptions, type OpenAIOptions } from './options.js';
import { reportQuota } from '../../../upstream/rate-limit-headers.js';
import { bodyKind, unexpectedBody } from '../../../plugin-kit/unexpected-body.js';

export interface OpenAIBackendOptions extends ModelMapping {
  name: string;
  type: string;
  /** Base URL up to and including the API version, e.g. `http://host:8000/v1`. */
  baseUrl: string;
  apiKey?: string;
  headers?: Record<string, string>;
  /** Overrides `server.firstByteTimeoutMs` for this backend (cold starts on rented GPUs). */
  firstByteTimeoutMs?: number;
  /** Provider-specific request fixes (parameters a provider rejects). */
  adjustRequest?: (request: ChatCompletionRequest) => ChatCompletionRequest;
  /** Read provider response headers (rate limits) before the body. */
  onResponse?: (response: UpstreamResponse, context: ProxyContext) => void;
  /** What a managed API documents of its models, where its /v1/models says nothing (Cerebras). */
  modelInfo?: (model: string) => Promise<ServedModel>;
  /** Turn an upstream error into a more helpful one (e.g. a retired model). */
  refineError?: (error: ProxyError, backend: OpenAIBackend) => Promise<ProxyError>;
}

/** A base URL ending in `/v1` (or any versioned path) is used as is; a bare origin gets `/v1`. */
export function openAIBaseUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  const path = new URL(trimmed).pathname;
  return path === '' || path === '/' ? `${trimmed}/v1` : trimmed;
}

/** Any server speaking OpenAI Chat Completions: vLLM, SGLang, llama.cpp, LiteLLM, Ollama /v1, RunPod. */
export class OpenAIBackend implements Backend {
  readonly name: string;
  readonly type: string;
  readonly client: UpstreamClient;
  readonly resolveModel: (requested: string) => string;
  readonly #options: OpenAIBackendOptions;
  readonly #server: OpenAIServerInfo;

  constructor(options: OpenAIBackendOptions, env: ProviderEnv) {
    this.name = options.name;
    this.type = options.type;
    this.#options = options;
    this.resolveModel = createModelResolver(options);
    this.client = new UpstreamClient({
      backend: options.name,
      baseUrl: options.baseUrl,
      connectTimeoutMs: env.server.connectTimeoutMs,
      firstByteTimeoutMs: options.firstByteTimeoutMs ?? env.server.firstByteTimeoutMs,
      idleTimeoutMs: env.server.idleTimeoutMs,
      headers: { ...options.headers, ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
    });
    this.#server = new OpenAIServerInfo(this.client, options.name);
  }

  modelInfo(model: string, signal?: AbortSignal): Promise<ServedModel> {
    return this.#options.modelInfo ? this.#options.modelInfo(model) : this.#server.modelInfo(model, signal);
  }

  countTokens(request: MessagesRequest, model: string, signal?: AbortSignal): Promise<number | undefined> {
    return this.#server.countTokens(request, model, signal);
  }

  async invoke(call: UpstreamCall): Promise<ProviderResponse> {
    const response = await this.client.request({
      method: 'POST',
      path: '/chat/completions',
      json: encodeJson(this.#chatRequest(call.takeRequest(), call.model)),
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      signal: call.signal,
    });
    reportQuota(call.context, this.name, response);
    this.#options.onResponse?.(response, call.context);
    if (response.status >= 400) {
      const error = await errorFromUpstream(response, { backend: this.name, format: 'openai' });
      throw this.#options.refineError ? await this.#options.refineError(error, this) : error;
    }
    const kind = bodyKind(response.headers['content-type']);
    // Some servers ignore `stream: true` and answer with one JSON completion.
    if (kind === 'json') {
      return { kind: 'message', message: fromOpenAIResponse(await response.json<ChatCompletion>(), { model: call.model, backend: this.name }) };
    }
    if (kind === 'other') {
      throw await unexpectedBody(response, { backend: this.name, url: redactUrl(this.#options.baseUrl), api: 'OpenAI-compatible API (usually ending in /v1)' });
    }
    return { kind: 'stream', events: translateOpenAISSE(response.body, { model: call.model, backend: this.name }) };
  }

  #chatRequest(request: MessagesRequest, model: string): ChatCompletionRequest {
    const body = toOpenAIRequest(request, { model, stream: true, maxTokensCap: this.#options.maxTokens });
    return this.#options.adjustRequest ? this.#options.adjustRequest(body) : body;
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    const response = await this.client.request({ method: 'GET', path: '/models', signal, timeoutMs: 10_000 });
    if (response.status >= 400) {
      throw await errorFromUpstream(response, { backend: this.name, format: 'openai' });
    }
    return modelIds(await response.json<{ data?: Array<{ id?: unknown }> }>());
  }

  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const started = Date.now();
    try {
      const models = await this.listModels(signal);
      const wanted = this.#options.model;
      const warnings = wanted && models.length && !models.includes(wanted) ? [`model "${wanted}" is not offered by this server`] : [];
      return { status: warnings.length ? 'degraded' : 'ok', latencyMs: Date.now() - started, models, warnings };
    } catch (error) {
      return { status: 'down', latencyMs: Date.now() - started, detail: error instanceof ProxyError ? error.message : String(error) };
    }
  }

  describe(): Record<string, string | number | boolean | undefined> {
    return {
      type: this.type,
      url: redactUrl(this.#options.baseUrl),
      model: this.#options.model,
      apiKey: this.#options.apiKey ? 'set' : 'not set',
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }
}

export function createOpenAIBackend(spec: BackendSpec<OpenAIOptions>, env: ProviderEnv): OpenAIBackend {
  const { url, apiKey, headers, firstByteTimeoutMs, model, models, maxTokens } = spec.options;
  // Set by the ssh-tunnel plugin when the entry has a `tunnel` and no `url`.
  if (url === undefined) throw new ConfigError('Required', { file: spec.file, field: `backends.${spec.name}.url` });
  return new OpenAIBackend(
    { name: spec.name, type: spec.type, baseUrl: openAIBaseUrl(url), apiKey, headers, firstByteTimeoutMs, model, models, maxTokens },
    env,
  );
}

/** Built-in provider type `openai`. */
export function openaiProvider(): Plugin {
  return {
    name: 'openai-provider',
    apply({ providers }) {
      providers.register('openai', { options: openaiOptions, create: createOpenAIBackend });
    },
  };
}
