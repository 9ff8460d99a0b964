import { errorFromUpstream, ProxyError, type UpstreamClient } from '../../src/plugin.js';
import type { OllamaShowResponse, OllamaTagsResponse } from './types.js';

/** What Ollama says about one model. */
export interface ModelReport {
  model: string;
  pulled: boolean;
  /** From `/api/show`; absent before Ollama 0.6. */
  capabilities?: string[];
  /** The window it was trained for (`<arch>.context_length` in `/api/show`'s model_info). */
  contextLength?: number;
  /** For the log, `/health` and `status`. */
  warnings: string[];
}

const CHECK_TIMEOUT_MS = 5_000;

/** `llama3.2` and `llama3.2:latest` name the same model; names compare without case. */
export function sameModel(a: string, b: string): boolean {
  const norm = (name: string): string => {
    const lower = name.trim().toLowerCase();
    return /:[^/]+$/.test(lower) ? lower : `${lower}:latest`;
  };
  return norm(a) === norm(b);
}

/**
 * Asks `/api/tags` whether a model is pulled and `/api/show` what it can do. A pulled model's
 * report is kept (its capabilities do not change); a missing one is asked again next time, so a
 * model pulled while the proxy runs is found.
 */
export class ModelInspector {
  readonly #client: UpstreamClient;
  readonly #backend: string;
  readonly #known = new Map<string, Promise<ModelReport>>();

  constructor(client: UpstreamClient, backend: string) {
    this.#client = client;
    this.#backend = backend;
  }

  /** Rejects with a ProxyError when Ollama cannot be asked (not running, wrong URL). */
  inspect(model: string): Promise<ModelReport> {
    const known = this.#known.get(model);
    if (known) return known;
    const report = this.#fetch(model);
    this.#known.set(model, report);
    report.then(
      (found) => {
        if (!found.pulled) this.#known.delete(model);
      },
      () => this.#known.delete(model),
    );
    return report;
  }

  /** After Ollama said the model is gone (`ollama rm` while we run). */
  forget(model: string): void {
    this.#known.delete(model);
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    const tags = await this.#get<OllamaTagsResponse>({ method: 'GET', path: '/api/tags', signal });
    return (tags.models ?? []).map((m) => m.name ?? m.model).filter((name): name is string => typeof name === 'string');
  }

  async #fetch(model: string): Promise<ModelReport> {
    const names = await this.listModels();
    if (!names.some((name) => sameModel(name, model))) {
      return { model, pulled: false, warnings: [`model "${model}" is not pulled: run \`ollama pull ${model}\``] };
    }
    const show = await this.#get<OllamaShowResponse>({ method: 'POST', path: '/api/show', body: JSON.stringify({ model }) });
    const capabilities = Array.isArray(show.capabilities) ? show.capabilities.filter((c) => typeof c === 'string') : undefined;
    const warnings =
      capabilities && !capabilities.includes('tools')
        ? [`model "${model}" does not support tools (capabilities: ${capabilities.join(', ') || 'none'}); Claude Code needs tool calls`]
        : [];
    return { model, pulled: true, capabilities, contextLength: trainedContext(show.model_info), warnings };
  }

  async #get<T>(request: { method: 'GET' | 'POST'; path: string; body?: string; signal?: AbortSignal }): Promise<T> {
    const response = await this.#client.request({ ...request, timeoutMs: CHECK_TIMEOUT_MS });
    if (response.status >= 400) throw await errorFromUpstream(response, { backend: this.#backend, format: 'openai' });
    const value = await response.json<unknown>();
    if (typeof value !== 'object' || value === null) {
      throw new ProxyError(`Ollama answered ${request.path} with something other than a JSON object`, {
        code: 'upstream_malformed',
        type: 'api_error',
        status: 502,
        backend: this.#backend,
        recommendations: ["check that the backend URL points at Ollama's native API (http://host:11434)"],
      });
    }
    return value as T;
  }
}

function trainedContext(info: Record<string, unknown> | undefined): number | undefined {
  if (!info) return undefined;
  const arch = info['general.architecture'];
  const value = typeof arch === 'string' ? info[`${arch}.context_length`] : undefined;
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
