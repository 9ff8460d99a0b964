import { ProxyError, invalidRequest } from '../../../errors.js';
import type { Plugin } from '../../../kernel/types.js';
import { checkHealth } from '../health/index.js';

export interface StatusReport {
  name: 'llm-proxy';
  version: string;
  pid: number;
  uptimeSeconds: number;
  active: string;
  backends: Record<string, Record<string, string | number | boolean | undefined>>;
  health: Awaited<ReturnType<typeof checkHealth>>;
  /** The active backend's context window (its default model), when known: `llm-proxy code` tells Claude Code. */
  contextWindow?: { tokens: number; source: string };
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/**
 * Built-in: `GET /_llm-proxy/status` and `POST /_llm-proxy/switch` for the CLI. Only loopback
 * clients may use them (and client-auth applies when keys are configured).
 */
export function adminEndpoint(options: { version: string }): Plugin {
  return {
    name: 'admin-endpoint',
    optionalDependencies: ['backend-health', 'context-window'],
    apply(kernel) {
      const { router, backends, logger, status } = kernel;
      const monitor = kernel.findApi('backend-health');
      const windows = kernel.findApi('context-window');
      router.use('/_llm-proxy', async (koa, next) => {
        if (!LOOPBACK.test(koa.req.socket.remoteAddress ?? '')) {
          throw new ProxyError('The admin API only answers loopback clients.', { code: 'admin_forbidden', type: 'permission_error' });
        }
        await next();
      });
      router.get('/_llm-proxy/status', async (koa) => {
        const described = Object.fromEntries(backends.names().map((name) => [name, backends.get(name)!.describe()]));
        const report: StatusReport = {
          name: 'llm-proxy',
          version: options.version,
          pid: process.pid,
          // The process's, not this kernel's: a reload builds a new kernel (and a new admin-endpoint).
          uptimeSeconds: Math.round(process.uptime()),
          active: backends.active,
          backends: described,
          health: await checkHealth(backends, status, monitor),
        };
        const window = await windows?.of(backends.active);
        if (window) report.contextWindow = window;
        koa.body = report;
      });
      router.post('/_llm-proxy/switch', async (koa) => {
        const chunks: Buffer[] = [];
        for await (const chunk of koa.req as AsyncIterable<Buffer>) chunks.push(chunk);
        let name: unknown;
        try {
          name = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { backend?: unknown }).backend;
        } catch {
          throw invalidRequest('expected {"backend": "<name>"}');
        }
        if (typeof name !== 'string' || !backends.get(name)) {
          throw new ProxyError(`No backend named ${JSON.stringify(name)}. Defined: ${backends.names().join(', ')}.`, {
            code: 'unknown_backend',
            type: 'not_found_error',
          });
        }
        const previous = backends.active;
        backends.setActive(name);
        logger.info(`switched active backend ${previous} -> ${name}`);
        koa.body = { active: name, previous };
      });
    },
  };
}
