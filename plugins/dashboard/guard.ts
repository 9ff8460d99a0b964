import type { Context as KoaContext } from 'koa';
import { ProxyError } from '../../src/plugin.js';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * What an action (switch, clear the cache) needs besides the client key every route wants once
 * keys are configured: a POST with a JSON body (a form on another site cannot send one without a
 * CORS preflight, which the proxy never grants), and no `Origin` but the proxy's own, so a page
 * on another site open in the user's browser cannot act through a proxy on loopback.
 */
export function checkAction(koa: KoaContext): void {
  if (!/^application\/json\b/i.test(koa.get('content-type'))) {
    throw new ProxyError('A dashboard action is a POST with a JSON body (content-type: application/json).', { code: 'invalid_request', type: 'invalid_request_error', status: 415 });
  }
  const origin = koa.get('origin');
  const own = `${koa.protocol}://${koa.host}`;
  if (origin && origin !== own) {
    throw new ProxyError(`A dashboard action from another site (${origin}) is refused: only pages the proxy serves (${own}) may act.`, {
      code: 'admin_forbidden',
      type: 'permission_error',
      status: 403,
    });
  }
  const site = koa.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') {
    throw new ProxyError('A dashboard action from another site is refused.', { code: 'admin_forbidden', type: 'permission_error', status: 403 });
  }
}

/** Whether this client may act: on loopback, or holding a client key (the client-auth middleware checked it). */
export function mayAct(koa: KoaContext): boolean {
  return LOOPBACK.test(koa.req.socket.remoteAddress ?? '') || Boolean(koa.get('x-api-key') || /^bearer\s+\S/i.test(koa.get('authorization')));
}
