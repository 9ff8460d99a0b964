import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PluginApi } from '../../src/plugin.js';

/** The package's root: the folder above this file holding package.json (src and dist alike). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('the dashboard cannot find its package folder');
    dir = up;
  }
  return dir;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };
/** Nothing from anywhere else: the page's own scripts, styles and API. */
const POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** `GET /ui` and its assets, as the build left them in the package (`dist/plugins/dashboard/ui/`). */
export function servePage(router: PluginApi['router']): void {
  const assets = join(packageRoot(), 'dist/plugins/dashboard/ui');
  const send = async (koa: Parameters<Parameters<typeof router.get>[1]>[0], name: string) => {
    const path = /^[a-z][a-z0-9-]*\.(js|css|html)$/.test(name) ? join(assets, name) : undefined;
    const body = path ? await readFile(path).catch(() => undefined) : undefined;
    if (!body) {
      koa.status = 404;
      koa.body = { type: 'error', error: { type: 'not_found_error', message: `no ${name}: the dashboard's page is built by \`npm run build\`` } };
      return;
    }
    koa.set('content-type', TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream');
    koa.set('cache-control', 'no-cache');
    koa.set('content-security-policy', POLICY);
    koa.set('x-content-type-options', 'nosniff');
    koa.body = body;
  };
  router.get('/ui', (koa) => send(koa, 'index.html'));
  router.get('/ui/assets/:name', (koa) => send(koa, String(koa.params.name)));
}
