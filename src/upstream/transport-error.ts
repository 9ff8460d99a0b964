import { errors } from 'undici';
import { ProxyError } from '../errors.js';

export type AbortReason = 'caller' | 'deadline';

/** What a transport failure is about, to name it in the message. */
export interface FailureContext {
  backend: string;
  origin: string;
  target: string;
  phase: 'request' | 'body';
  reason: AbortReason | undefined;
  timeoutMs: number | undefined;
  settings: { connectTimeoutMs: number; firstByteTimeoutMs: number; idleTimeoutMs: number };
}


/** undici / socket failures as ProxyErrors a person can act on; never with credentials. */
export function transportError(error: unknown, ctx: FailureContext): ProxyError {
  if (error instanceof ProxyError) return error;
  const base = { backend: ctx.backend, cause: error };

  if (ctx.reason === 'caller') {
    return new ProxyError(`the client closed the request; the upstream request to ${ctx.target} was aborted`, {
      ...base,
      code: 'client_closed',
      type: 'api_error',
      status: 499,
    });
  }
  if (ctx.reason === 'deadline') {
    return new ProxyError(`${ctx.target} did not complete within ${ctx.timeoutMs} ms (the request's deadline)`, {
      ...base,
      code: 'upstream_timeout',
      type: 'timeout_error',
      status: 504,
      retryable: true,
      recommendations: ['retry; if the backend is just slow, raise the timeout for this call'],
    });
  }

  const code = errorCode(error);
  const { connectTimeoutMs, firstByteTimeoutMs, idleTimeoutMs } = ctx.settings;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return timeout(`connecting to ${ctx.origin} timed out after ${connectTimeoutMs} ms (server.connectTimeoutMs)`, base, [
        `check that the backend is running and reachable at ${ctx.origin}`,
        'raise server.connectTimeoutMs if the network is slow',
      ]);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return timeout(`${ctx.target} sent no response headers within ${firstByteTimeoutMs} ms (server.firstByteTimeoutMs)`, base, [
        'the model may still be loading or the backend is overloaded; retry shortly',
        'raise server.firstByteTimeoutMs for slow self-hosted models',
      ]);
    case 'UND_ERR_BODY_TIMEOUT':
      return timeout(`the response from ${ctx.target} went silent for more than ${idleTimeoutMs} ms (server.idleTimeoutMs)`, base, [
        'retry; the backend may have stalled',
        'raise server.idleTimeoutMs if the backend pauses long between tokens',
      ]);
    case 'ECONNREFUSED':
      // Nothing listens on this machine until someone starts it; a remote server may be restarting.
      return unreachable(`connection refused by ${ctx.origin} (nothing is listening there)`, base, !isLoopback(ctx.origin), [
        `start the backend or fix its URL (currently ${ctx.origin})`,
      ]);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return unreachable(`could not resolve the host of ${ctx.origin} (DNS ${code})`, base, code === 'EAI_AGAIN', [
        'check the hostname in the backend URL and your network/DNS',
      ]);
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
    case 'ENETDOWN':
      return unreachable(`${ctx.origin} is unreachable from this machine (${code})`, base, true, [
        'check the network path, VPN or firewall to the backend',
      ]);
  }
  if (code && /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY/.test(code)) {
    return new ProxyError(`TLS handshake with ${ctx.origin} failed (${code})`, {
      ...base,
      code: 'upstream_tls_error',
      type: 'api_error',
      status: 502,
      retryable: false,
      recommendations: ['check the backend certificate; for a private CA set NODE_EXTRA_CA_CERTS'],
    });
  }
  if (error instanceof errors.HTTPParserError || code?.startsWith('HPE_') || code === 'UND_ERR_HEADERS_OVERFLOW') {
    return new ProxyError(`${ctx.target} sent an invalid HTTP response${code ? ` (${code})` : ''}`, {
      ...base,
      code: 'upstream_malformed',
      type: 'api_error',
      status: 502,
      retryable: false,
      recommendations: ['check that the backend URL points at an HTTP API server (not a proxy or another protocol)'],
    });
  }
  if (code === 'UND_ERR_INVALID_ARG' || code === 'ERR_INVALID_CHAR' || code === 'ERR_INVALID_ARG_TYPE') {
    return new ProxyError(`the request to ${ctx.target} could not be sent: invalid header or argument (${code})`, {
      ...base,
      code: 'upstream_request_invalid',
      type: 'api_error',
      status: 500,
      retryable: false,
      recommendations: ['check the backend headers and API key for stray characters such as newlines'],
    });
  }
  const what = ctx.phase === 'body' ? `while streaming the response from ${ctx.target}` : `before ${ctx.target} answered`;
  return new ProxyError(`the connection to ${ctx.origin} was closed ${what}${code ? ` (${code})` : ''}`, {
    ...base,
    code: 'upstream_disconnected',
    type: 'api_error',
    status: 502,
    retryable: true,
    recommendations: ['retry; if it keeps happening, check the backend logs (it may have crashed or run out of memory)'],
  });
}

function timeout(message: string, base: { backend: string; cause: unknown }, recommendations: string[]): ProxyError {
  return new ProxyError(message, { ...base, code: 'upstream_timeout', type: 'timeout_error', status: 504, retryable: true, recommendations });
}

function unreachable(message: string, base: { backend: string; cause: unknown }, retryable: boolean, recommendations: string[]): ProxyError {
  return new ProxyError(message, { ...base, code: 'upstream_unreachable', type: 'api_error', status: 502, retryable, recommendations });
}

/** `localhost`, 127.0.0.0/8, ::1 (an SSH tunnel's local end too). */
export function isLoopback(origin: string): boolean {
  let host: string;
  try {
    host = new URL(origin).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '0.0.0.0';
}

/** Node's happy-eyeballs connect throws an AggregateError whose members carry the code. */
function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = errorCode(inner);
      if (innerCode) return innerCode;
    }
  }
  const cause = (error as { cause?: unknown }).cause;
  return cause === undefined || cause === error ? undefined : errorCode(cause);
}
