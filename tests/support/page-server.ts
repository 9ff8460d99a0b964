// A local web server for the web-fetch plugin's tests, on 127.0.0.1 only: pages, redirects, a
// body that never ends and an answer that never comes. Tests wait on its events (a socket
// closed), never on the clock.

import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface PageServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Paths requested, in order. */
  readonly requested: string[];
  /** Resolves when the socket of a request to `path` closes: ask before the request. */
  socketClosed(path: string): Promise<void>;
  close(): Promise<void>;
}

export const PAGE_HTML = `<!doctype html>
<html><head><title>The Test &amp; Page</title><style>body { color: red }</style>
<script>window.secret = "do not show";</script></head>
<body><nav><a href="/other">Other page</a></nav>
<h1>Hello from the local page</h1>
<p>Caf&eacute; is not decoded, but caf&#233; and &lt;tags&gt; are.</p>
<!-- a comment -->
</body></html>`;

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const ROUTES: Record<string, Handler> = {
  '/page': (_req, res) => send(res, 200, 'text/html; charset=utf-8', PAGE_HTML),
  '/plain': (_req, res) => send(res, 200, 'text/plain', 'just text'),
  '/latin1': (_req, res) => send(res, 200, 'text/plain; charset=iso-8859-1', Buffer.from([0x63, 0x61, 0x66, 0xe9])),
  '/image': (_req, res) => send(res, 200, 'image/png', Buffer.from([0x89, 0x50, 0x4e, 0x47])),
  '/missing': (_req, res) => send(res, 404, 'text/html', '<h1>Not found</h1>'),
  '/busy': (_req, res) => send(res, 429, 'text/plain', 'slow down'),
  '/to-page': (_req, res) => redirect(res, '/page'),
  '/to-metadata': (_req, res) => redirect(res, 'http://169.254.169.254/latest/meta-data/'),
  '/to-file': (_req, res) => redirect(res, 'file:///etc/passwd'),
  '/loop': (_req, res) => redirect(res, '/loop'),
  // Writes until the client goes away.
  '/forever': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    const piece = Buffer.alloc(16 * 1024, 'a');
    const write = () => {
      while (!res.destroyed && res.write(piece));
      if (!res.destroyed) res.once('drain', write);
    };
    write();
  },
  // Never answers.
  '/hang': () => undefined,
};

export async function startPageServer(): Promise<PageServer> {
  const requested: string[] = [];
  const sockets = new Set<Socket>();
  const waiting = new Map<string, Array<() => void>>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://page.invalid').pathname;
    requested.push(path);
    req.socket.once('close', () => {
      for (const resolve of waiting.get(path) ?? []) resolve();
      waiting.delete(path);
    });
    res.on('error', () => undefined);
    const handler = ROUTES[path];
    if (handler) handler(req, res);
    else send(res, 404, 'text/plain', 'no such page');
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    port,
    requested,
    socketClosed(path) {
      return new Promise<void>((resolve) => {
        const list = waiting.get(path) ?? [];
        list.push(resolve);
        waiting.set(path, list);
      });
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-length': 0 });
  res.end();
}
