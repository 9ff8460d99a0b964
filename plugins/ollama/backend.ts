import {
  createModelResolver,
  encodeJson,
  errorFromUpstream,
  ProxyError,
  readNDJSON,
  UpstreamClient,
  type Backend,
  type BackendHealth,
  type Logger,
  type ProviderEnv,
  type ProviderResponse,
  type ServedModel,
  type UpstreamCall,
  type UpstreamRequest,
  type UpstreamResponse,
} from '../../src/plugin.js';
import { embedWith } from './embed.js';
import { notPulled, refineOllamaError, type ErrorScope } from './errors.js';
import { ModelInspector, type ModelReport } from './models.js';
import type { OllamaBackendOptions } from './options.js';
import { toOllamaRequest } from './request.js';
import { translateOllamaStream } from './stream.js';

const HEALTH_TIMEOUT_MS = 5_000;

/** Ollama's native API: `/api/chat` streamed as NDJSON, model checks via `/api/tags` and `/api/show`. */
export class OllamaBackend implements Backend {
  readonly name: string;
  readonly type: string;
  readonly client: UpstreamClient;
  readonly resolveModel: (requested: string) => string;
  readonly #options: OllamaBackendOptions;
  readonly #models: ModelInspector;
  readonly #logger: Logger;
  /** Warnings already logged, so each is logged once. */
  readonly #logged = new Set<string>();
  #lastReport: ModelReport | undefined;

  constructor(type: string, options: OllamaBackendOptions, env: ProviderEnv) {
    this.name = options.name;
    this.type = type;
    this.#options = options;
    this.#logger = env.logger.child({ backend: options.name });
    this.resolveModel = createModelResolver(options);
    this.client = new UpstreamClient({
      backend: options.name,
      baseUrl: options.url,
      connectTimeoutMs: env.server.connectTimeoutMs,
      // Ollama sends its headers with the first token, after loading the model and reading the prompt.
      firstByteTimeoutMs: options.loadTimeoutMs,
      idleTimeoutMs: env.server.idleTimeoutMs,
      headers: { ...options.headers, ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
    });
    this.#models = new ModelInspector(this.client, options.name);
  }

  /** The smaller of the model's trained window and the `num_ctx` the proxy sends: Ollama cuts a longer prompt without a word. */
  async modelInfo(model: string): Promise<ServedModel> {
    const report = await this.#models.inspect(model);
    const numCtx = this.#options.numCtx;
    if (report.contextLength !== undefined && report.contextLength < numCtx) return { contextWindow: report.contextLength, source: 'Ollama /api/show context_length' };
    return { contextWindow: numCtx, source: 'num_ctx the proxy sends' };
  }

  async invoke(call: UpstreamCall): Promise<ProviderResponse> {
    const scope = this.#scope(call.model);
    // A failed check is no reason to fail the request: /api/chat gives the precise error.
    const report = await this.#models.inspect(call.model).catch(() => undefined);
    if (report && !report.pulled) throw notPulled(scope);
    if (report) this.#note(report);
    const response = await this.#request(scope, {
      method: 'POST',
      path: '/api/chat',
      json: encodeJson(
        toOllamaRequest(call.takeRequest(), {
          model: call.model,
          numCtx: this.#options.numCtx,
          maxTokensCap: this.#options.maxTokens,
          keepAlive: this.#options.keepAlive,
          think: this.#options.think,
          capabilities: report?.capabilities,
        }),
      ),
      headers: { accept: 'application/x-ndjson' },
      signal: call.signal,
    });
    const lines = readNDJSON(response.body, { backend: this.name });
    return { kind: 'stream', events: translateOllamaStream(lines, { backend: this.name, model: call.model }) };
  }

  /** Inspects the configured model and logs what would stop Claude Code from working; never throws. */
  async checkModel(): Promise<void> {
    const model = this.#options.model;
    for (const warning of this.#setupWarnings()) this.#warn(warning);
    // At start a tunnel's local end answers only once ssh is up; "start Ollama" would mislead.
    if (!model || this.#options.tunneled) return;
    try {
      this.#note(await this.#models.inspect(model));
    } catch (error) {
      this.#logger.warn(`Ollama is not reachable yet, so requests fail until it runs: ${this.#explain(error)}`);
    }
  }

  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const started = Date.now();
    try {
      const response = await this.client.request({ method: 'GET', path: '/api/version', signal, timeoutMs: HEALTH_TIMEOUT_MS });
      if (response.status >= 400) throw await errorFromUpstream(response, { backend: this.name, format: 'openai' });
      const { version } = await response.json<{ version?: unknown }>();
      const model = this.#options.model;
      const report = model ? await this.#models.inspect(model).catch(() => undefined) : undefined;
      if (report) this.#note(report);
      const warnings = [...this.#setupWarnings(), ...(report?.warnings ?? [])];
      return {
        status: warnings.length > 0 ? 'degraded' : 'ok',
        latencyMs: Date.now() - started,
        detail: `Ollama ${typeof version === 'string' ? version : '(unknown version)'}`,
        warnings,
      };
    } catch (error) {
      return { status: 'down', latencyMs: Date.now() - started, detail: this.#explain(error) };
    }
  }

  listModels(signal?: AbortSignal): Promise<string[]> {
    return this.#models.listModels(signal);
  }

  /** `POST /api/embed` with `embedModel`, else the backend's model. */
  embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const model = this.#options.embedModel ?? this.#options.model;
    if (!model) {
      return Promise.reject(
        new ProxyError(`backend "${this.name}" has no model to embed with`, {
          code: 'no_embed_model',
          type: 'invalid_request_error',
          backend: this.name,
          recommendations: [`set backends.${this.name}.embedModel (e.g. nomic-embed-text)`],
        }),
      );
    }
    return embedWith({ client: this.client, backend: this.name, model, loadTimeoutMs: this.#options.loadTimeoutMs }, texts, signal);
  }

  describe(): Record<string, string | number | boolean | undefined> {
    const think = this.#options.think;
    const keepAlive = this.#options.keepAlive;
    return {
      type: this.type,
      url: this.client.safeBaseUrl,
      model: this.#options.model,
      numCtx: this.#options.numCtx,
      keepAlive: keepAlive === undefined ? undefined : String(keepAlive),
      think: think === undefined ? undefined : String(think),
      embedModel: this.#options.embedModel,
      apiKey: this.#options.apiKey ? 'set' : undefined,
      warnings: this.#lastReport?.warnings.join('; ') || undefined,
    };
  }

  close(): Promise<void> {
    return this.client.close();
  }

  async #request(scope: ErrorScope, request: UpstreamRequest): Promise<UpstreamResponse> {
    let response: UpstreamResponse;
    try {
      response = await this.client.request(request);
    } catch (error) {
      throw error instanceof ProxyError ? refineOllamaError(error, scope) : error;
    }
    if (response.status < 400) return response;
    const error = refineOllamaError(await errorFromUpstream(response, { backend: this.name, format: 'openai' }), scope);
    if (error.code === 'model_not_pulled') this.#models.forget(scope.model);
    throw error;
  }

  /** Without a model, requests ask Ollama for the Claude model name, which it never has. */
  #setupWarnings(): string[] {
    if (this.#options.model || this.#options.models) return [];
    return [`no model set: set backends.${this.name}.model to a model \`ollama list\` shows`];
  }

  #explain(error: unknown): string {
    if (!(error instanceof ProxyError)) return String(error);
    if (this.#options.tunneled && error.code === 'upstream_unreachable') return `${error.message}: its SSH tunnel is not up (see tunnels)`;
    const refined = refineOllamaError(error, this.#scope(this.#options.model ?? ''));
    const advice = refined.recommendations[0];
    // Messages often end in parentheses already ("... (nothing is listening there)").
    return advice ? `${refined.message}; ${advice}` : refined.message;
  }

  #scope(model: string): ErrorScope {
    return { backend: this.name, model, url: this.client.safeBaseUrl, loadTimeoutMs: this.#options.loadTimeoutMs };
  }

  #note(report: ModelReport): void {
    if (report.model === this.#options.model) this.#lastReport = report;
    for (const warning of report.warnings) this.#warn(warning);
  }

  #warn(message: string): void {
    if (this.#logged.has(message)) return;
    this.#logged.add(message);
    this.#logger.warn(message);
  }
}
