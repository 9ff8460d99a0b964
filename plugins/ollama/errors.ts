import { ProxyError } from '../../src/plugin.js';

/** `model "x" not found, try pulling it first` (scheduler) and `model 'x' not found` (newer chat handler). */
const NOT_FOUND = /model ["'].*["'] not found/i;
const NO_TOOLS = /does not support tools/i;
const NO_THINKING = /does not support thinking/i;

export interface ErrorScope {
  backend: string;
  model: string;
  /** The Ollama URL, without credentials. */
  url: string;
  loadTimeoutMs: number;
}

/** A 400, not a 404: Claude Code replaces a 404's message (and so the `ollama pull` advice) with its own. */
export function notPulled(scope: ErrorScope, cause?: unknown): ProxyError {
  return new ProxyError(`model "${scope.model}" is not pulled on the Ollama server at ${scope.url}`, {
    code: 'model_not_pulled',
    type: 'invalid_request_error',
    status: 400,
    retryable: false,
    backend: scope.backend,
    recommendations: [
      `run \`ollama pull ${scope.model}\` on that machine`,
      `or set backends.${scope.backend}.model to a model \`ollama list\` shows`,
    ],
    cause,
  });
}

/** Ollama's own answers, rewritten to say what to do about them. */
export function refineOllamaError(error: ProxyError, scope: ErrorScope): ProxyError {
  const at = `backends.${scope.backend}`;
  const notFound = error.code === 'upstream_404';
  if (notFound && NOT_FOUND.test(error.message)) return notPulled(scope, error);
  if (NO_TOOLS.test(error.message)) {
    return new ProxyError(`model "${scope.model}" cannot call tools, and Claude Code needs tool calls: ${error.message}`, {
      code: 'model_lacks_tools',
      type: 'invalid_request_error',
      status: 400,
      retryable: false,
      backend: scope.backend,
      recommendations: [`set ${at}.model to a model with tool support (e.g. qwen3-coder:30b, gpt-oss:20b; \`ollama show <model>\` lists its capabilities)`],
      cause: error,
    });
  }
  if (NO_THINKING.test(error.message)) {
    return new ProxyError(`model "${scope.model}" cannot think: ${error.message}`, {
      code: 'model_lacks_thinking',
      type: 'invalid_request_error',
      status: 400,
      retryable: false,
      backend: scope.backend,
      recommendations: [`remove ${at}.think, or set it to false`],
      cause: error,
    });
  }
  if (error.code === 'upstream_unreachable') {
    return withAdvice(error, [`start Ollama (\`ollama serve\`) or fix ${at}.url (currently ${scope.url})`]);
  }
  if (notFound) {
    // Not Ollama's model error: the URL points at something else (a proxy path, an OpenAI-only server).
    return withAdvice(error, [
      `check that ${scope.url} serves Ollama's native API (\`curl ${scope.url}/api/version\`)`,
      'for an OpenAI-compatible server use `type: "openai"` instead',
    ]);
  }
  if (error.code === 'upstream_timeout' && /no response headers/.test(error.message)) {
    return new ProxyError(`Ollama at ${scope.url} sent nothing within ${scope.loadTimeoutMs} ms (${at}.loadTimeoutMs) while loading "${scope.model}"`, {
      code: error.code,
      type: error.type,
      status: error.status,
      retryable: error.retryable,
      backend: scope.backend,
      recommendations: [
        'retry once the model is loaded (`ollama ps` shows it)',
        `raise ${at}.loadTimeoutMs for large models or slow disks`,
      ],
      cause: error,
    });
  }
  return error;
}

function withAdvice(error: ProxyError, recommendations: string[]): ProxyError {
  return new ProxyError(error.message, {
    code: error.code,
    type: error.type,
    status: error.status,
    retryAfter: error.retryAfter,
    retryable: error.retryable,
    backend: error.backend,
    recommendations,
    cause: error,
  });
}
