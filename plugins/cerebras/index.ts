import {
  formatWait,
  OpenAIBackend,
  openAIBaseUrl,
  parsePluginOptions,
  ProxyError,
  type BackendRegistry,
  type BackendSpec,
  type ChatCompletionRequest,
  type Plugin,
  type ProviderEnv,
} from '../../src/plugin.js';
import { cerebrasModelInfo } from './context-windows.js';
import { cerebrasOptions, cerebrasPluginOptions, type CerebrasOptions, type CerebrasPluginOptions } from './options.js';
import { parseCerebrasQuota, type QuotaInfo } from './quota.js';

export { cerebrasPluginOptions, type CerebrasBackendConfig, type CerebrasPluginOptions } from './options.js';
export type { QuotaInfo } from './quota.js';

/** What the cerebras plugin offers the plugins that depend on it. */
export interface CerebrasApi {
  /** The quota the last response of a cerebras backend reported, if any. */
  quota(backend: string): QuotaInfo | undefined;
}

declare module '../../src/plugin.js' {
  interface PluginApis {
    cerebras: CerebrasApi;
  }
}

export const CEREBRAS_API_URL = 'https://api.cerebras.ai/v1';

/** Parameters the Cerebras API answers with 400. */
const REJECTED = ['frequency_penalty', 'presence_penalty', 'logit_bias', 'parallel_tool_calls', 'service_tier', 'top_k'] as const;

export function adjustForCerebras(request: ChatCompletionRequest): ChatCompletionRequest {
  const out: ChatCompletionRequest = { ...request };
  const loose: Record<string, unknown> = out as unknown as Record<string, unknown>;
  for (const key of REJECTED) delete loose[key];
  if (out.max_tokens !== undefined) {
    out.max_completion_tokens = out.max_tokens;
    delete out.max_tokens;
  }
  // Cerebras accepts only "auto", "none" and "required" as tool_choice.
  if (typeof out.tool_choice === 'object' && out.tool_choice !== null) out.tool_choice = 'required';
  return out;
}

class CerebrasBackend extends OpenAIBackend {
  lastQuota: QuotaInfo | undefined;

  override describe() {
    const quota = this.lastQuota;
    return {
      ...super.describe(),
      requestsRemainingToday: quota?.requests?.remaining,
      tokensRemainingThisMinute: quota?.tokens?.remaining,
    };
  }
}

function createCerebrasBackend(spec: BackendSpec<CerebrasOptions>, env: ProviderEnv, defaults: { apiUrl?: string | undefined }): CerebrasBackend {
  const at = `backends.${spec.name}`;
  const { apiUrl, model, models, maxTokens, firstByteTimeoutMs } = spec.options;
  const apiKey = (spec.options.apiKey || undefined) ?? process.env.CEREBRAS_API_KEY;
  // An apiKey that names an unset ${VAR} is empty here, and the config loader already named the variable.
  if (!apiKey && spec.options.apiKey === undefined) env.logger.warn(`backend "${spec.name}": no Cerebras API key (set CEREBRAS_API_KEY or ${at}.apiKey)`);
  const backend: CerebrasBackend = new CerebrasBackend(
    {
      name: spec.name,
      type: spec.type,
      baseUrl: openAIBaseUrl(apiUrl ?? defaults.apiUrl ?? CEREBRAS_API_URL),
      apiKey,
      model,
      models,
      maxTokens,
      firstByteTimeoutMs,
      adjustRequest: adjustForCerebras,
      modelInfo: (name) => Promise.resolve(cerebrasModelInfo(name)),
      onResponse: (response) => {
        const quota = parseCerebrasQuota(spec.name, response.headers);
        if (quota) backend.lastQuota = quota;
      },
      refineError: (error, self) => refineCerebrasError(error, self, at, apiKey !== undefined, backend.lastQuota),
    },
    env,
  );
  return backend;
}

async function refineCerebrasError(
  error: ProxyError,
  backend: OpenAIBackend,
  at: string,
  hasKey: boolean,
  quota: QuotaInfo | undefined,
): Promise<ProxyError> {
  if (error.code === 'upstream_401' || error.code === 'upstream_403') {
    const hint = hasKey ? 'check that CEREBRAS_API_KEY (or the apiKey in the config) is current' : `set CEREBRAS_API_KEY or ${at}.apiKey`;
    return new ProxyError(`Cerebras rejected the API key: ${error.message}`, { ...fields(error), retryable: false, recommendations: [hint] });
  }
  if (error.code === 'upstream_404' || /model/i.test(error.message) && error.type === 'invalid_request_error') {
    const models = await backend.listModels(AbortSignal.timeout(5_000)).catch(() => []);
    const offered = models.length ? `Cerebras offers: ${models.join(', ')}` : 'GET /v1/models on Cerebras lists the models it offers';
    // A 400: Claude Code shows a 404's message as "There's an issue with the selected model" instead.
    return new ProxyError(`${error.message} Cerebras retires models (qwen-3-coder-480b is gone). ${offered}.`, {
      ...fields(error),
      type: 'invalid_request_error',
      status: 400,
      retryable: false,
      recommendations: [`set ${at}.model to one of the offered models`],
    });
  }
  if (error.type === 'rate_limit_error') {
    // The daily request budget resets hours from now: retrying cannot help. A per-minute one can.
    const daily = error.retryable === false || (quota !== undefined && quota.requests?.remaining === 0 && Date.now() - quota.observedAt < 5_000);
    const wait = error.retryAfter !== undefined ? `wait ${formatWait(error.retryAfter)}` : 'wait for the quota to reset';
    return new ProxyError(`Cerebras ${daily ? 'daily quota exhausted' : 'per-minute limit reached'}: ${error.message}`, {
      ...fields(error),
      retryable: !daily,
      recommendations: [wait, 'or run `llm-proxy switch <other backend>`'],
    });
  }
  return error;
}


const fields = (error: ProxyError) => ({
  code: error.code,
  type: error.type,
  status: error.status,
  retryAfter: error.retryAfter,
  retryable: error.retryable,
  backend: error.backend,
  cause: error,
});

/** Provider type `cerebras`: the Cerebras Inference API (OpenAI-compatible, Bearer auth). */
export function cerebras(options: CerebrasPluginOptions = {}): Plugin {
  const checked = parsePluginOptions('cerebras', cerebrasPluginOptions, options);
  let backends: BackendRegistry | undefined;
  const api: CerebrasApi = {
    quota: (name) => {
      const backend = backends?.get(name);
      return backend instanceof CerebrasBackend ? backend.lastQuota : undefined;
    },
  };
  return {
    name: 'cerebras',
    dependencies: ['openai-provider'],
    api,
    apply({ providers, backends: registry }) {
      backends = registry;
      providers.register('cerebras', { options: cerebrasOptions, create: (spec, env) => createCerebrasBackend(spec, env, checked) });
    },
  };
}

export default cerebras;
