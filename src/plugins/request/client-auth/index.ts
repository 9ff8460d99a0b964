import { createHash, timingSafeEqual } from 'node:crypto';
import { ProxyError } from '../../../errors.js';
import type { Plugin } from '../../../kernel/types.js';

declare module '../../../kernel/types.js' {
  interface ContextState {
    /** When client keys are configured: a digest of the key the request presented (tenants never share cache entries). */
    clientKeyId?: string;
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/** The key a client sent, as `x-api-key` or `Authorization: Bearer`. */
export function presentedKey(headers: Readonly<Record<string, string | string[] | undefined>>): string | undefined {
  const apiKey = headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey) return apiKey;
  const auth = headers.authorization;
  if (typeof auth === 'string' && /^bearer\s+/i.test(auth)) return auth.replace(/^bearer\s+/i, '');
  return undefined;
}

/** Whether the key matches one of the configured keys; compares digests in constant time. */
export function keyMatches(key: string | undefined, keys: readonly Buffer[]): boolean {
  if (key === undefined) return false;
  const presented = digest(key);
  let match = false;
  for (const expected of keys) match = timingSafeEqual(presented, expected) || match;
  return match;
}

const OPEN_PATHS = new Set(['HEAD /', 'GET /health']);

/** Built-in: when client keys are configured, every request but `HEAD /` and `/health` needs one. */
export function clientAuth(options: { keys: readonly string[] }): Plugin {
  const keys = options.keys.map(digest);
  return {
    name: 'client-auth',
    enforce: 'pre',
    apply(kernel) {
      if (keys.length === 0) return;
      const { hooks } = kernel;
      // Which key a request used separates tenants, e.g. in cache keys; a digest, never the key.
      hooks.request.tap({ name: 'client-auth', stage: -200 }, (ctx) => {
        const key = presentedKey(ctx.headers);
        if (key !== undefined) ctx.state.clientKeyId = digest(key).toString('hex');
      });
      kernel.use(async (koa, next) => {
        if (OPEN_PATHS.has(`${koa.method} ${koa.path}`) || keyMatches(presentedKey(koa.headers), keys)) {
          await next();
          return;
        }
        // Without the header's name: Claude Code replaces any message that says x-api-key with its own.
        throw new ProxyError('Invalid or missing API key: this proxy accepts only its client keys (auth.keys); set ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN to one of them.', {
          code: 'invalid_client_key',
          type: 'authentication_error',
          // Claude Code retries a 401 ten times (minutes) unless told not to.
          retryable: false,
        });
      });
    },
  };
}
