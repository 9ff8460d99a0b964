import type { ProxyError } from '../errors.js';

// What a failed attempt says about trying again: failover and the endpoint balancer decide with these.

/** The upstream's own status, for an error made from one (`upstream_503`). */
function upstreamStatus(error: ProxyError): number | undefined {
  const match = /^upstream_(\d{3})$/.exec(String(error.code));
  return match ? Number(match[1]) : undefined;
}

/** The request itself is wrong (or the client left): another backend or another try gets the same answer. */
export function isClientFault(error: ProxyError): boolean {
  if (error.code === 'client_closed' || error.backend === undefined) return true;
  const upstream = upstreamStatus(error);
  return upstream === 400 || upstream === 413 || upstream === 422 || error.code === 'upstream_request_invalid';
}

/** May pass if tried again soon: not a refusal that waits on a person, a circuit or a tunnel. */
export function isTransient(error: ProxyError): boolean {
  if (error.retryable === false) return false;
  if (error.code === 'backend_unavailable' || error.code === 'tunnel_down' || error.code === 'upstream_timeout' || error.code === 'quota_short') return false;
  const upstream = upstreamStatus(error);
  if (upstream !== undefined) return upstream === 429 || upstream === 529 || upstream >= 500;
  return error.status >= 500 || error.status === 429;
}
