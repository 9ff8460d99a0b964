// A transparent HTTP relay in front of the proxy that counts the Messages requests a client
// (Claude Code) sent, whatever the proxy did with them — also those a middleware rejected
// before any hook ran. Bodies and answers are piped through untouched, streams included.

import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface CountingRelay {
  /** Point the client here. */
  readonly url: string;
  /** `POST /v1/messages` requests since the last reset (any query string). */
  readonly messages: number;
  reset(): void;
  close(): Promise<void>;
}

export async function startCountingRelay(target: string): Promise<CountingRelay> {
  const to = new URL(target);
  let messages = 0;
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'POST' && new URL(req.url ?? '/', 'http://relay.invalid').pathname === '/v1/messages') messages++;
    const upstream = request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: { ...req.headers, host: to.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get messages() {
      return messages;
    },
    reset() {
      messages = 0;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
