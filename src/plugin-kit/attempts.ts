import type { ProxyError } from '../errors.js';
import type { ProxyContext } from '../kernel/types.js';

/** Whether `error` ended an attempt the proxy followed with another: not what the client gets. */
export function isSuperseded(ctx: ProxyContext, error: ProxyError): boolean {
  return ctx.attempts.some((attempt) => attempt.error === error);
}
