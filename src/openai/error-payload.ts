import type { ErrorType } from '../anthropic/types.js';
import { ProxyError, type ProxyErrorCode } from '../errors.js';

const MAX_MESSAGE = 500;

/**
 * The `error` member of a body or chunk that an OpenAI-compatible server sent with HTTP 200:
 * `{message, type, code}` (OpenAI, LiteLLM, vLLM) or a plain string (TGI and other servers). The client
 * reads the upstream's own words; a 4xx-like code (other than 429) is the client's request.
 */
export function upstreamErrorPayload(error: unknown, opts: { backend?: string; where: string; code: ProxyErrorCode }): ProxyError {
  const record = typeof error === 'object' && error !== null && !Array.isArray(error) ? (error as Record<string, unknown>) : undefined;
  const raw = typeof error === 'string' ? error : typeof record?.message === 'string' ? record.message : JSON.stringify(error);
  const message = raw.length > MAX_MESSAGE ? `${raw.slice(0, MAX_MESSAGE)}…` : raw;
  const label = [record?.type, record?.code].filter((part) => typeof part === 'string' || typeof part === 'number').join('/');
  const status = Number(record?.code ?? record?.status);
  const { type, proxyStatus } = classify(Number.isInteger(status) ? status : 0);
  return new ProxyError(`The backend ${opts.where}${label ? ` (${label})` : ''}: ${message}`, {
    code: opts.code,
    type,
    status: proxyStatus,
    ...(opts.backend === undefined ? {} : { backend: opts.backend }),
    recommendations: type === 'api_error' ? ['retry; if it keeps failing, check the backend log'] : [],
  });
}

function classify(status: number): { type: ErrorType; proxyStatus: number } {
  if (status === 429) return { type: 'rate_limit_error', proxyStatus: 429 };
  if (status >= 400 && status < 500) return { type: 'invalid_request_error', proxyStatus: 400 };
  return { type: 'api_error', proxyStatus: 502 };
}
