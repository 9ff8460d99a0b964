// A Redis-compatible server that refuses every AUTH and quotes the password it was given (as some
// Redis proxies do), so the proxy's Redis error carries the password. RESP over TCP on 127.0.0.1.

import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface EchoRedis {
  readonly port: number;
  /** The passwords received with AUTH. */
  readonly passwords: string[];
  close(): Promise<void>;
}

/** The bulk strings of one RESP array command (`*2\r\n$4\r\nAUTH\r\n$3\r\npwd\r\n`); enough for AUTH, PING, INFO. */
function commandsIn(buffer: string): { commands: string[][]; rest: string } {
  const commands: string[][] = [];
  let at = 0;
  for (;;) {
    const header = /^\*(\d+)\r\n/.exec(buffer.slice(at));
    if (!header) break;
    let cursor = at + header[0].length;
    const parts: string[] = [];
    for (let i = 0; i < Number(header[1]); i++) {
      const bulk = /^\$(\d+)\r\n/.exec(buffer.slice(cursor));
      if (!bulk) return { commands, rest: buffer.slice(at) };
      const start = cursor + bulk[0].length;
      const end = start + Number(bulk[1]);
      if (buffer.length < end + 2) return { commands, rest: buffer.slice(at) };
      parts.push(buffer.slice(start, end));
      cursor = end + 2;
    }
    commands.push(parts);
    at = cursor;
  }
  return { commands, rest: buffer.slice(at) };
}

export async function startEchoRedis(): Promise<EchoRedis> {
  const sockets = new Set<Socket>();
  const passwords: string[] = [];
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      const { commands, rest } = commandsIn(buffer + chunk.toString('utf8'));
      buffer = rest;
      for (const [name, ...args] of commands) {
        if (name?.toUpperCase() === 'AUTH') {
          const password = args.at(-1) ?? '';
          passwords.push(password);
          socket.write(`-WRONGPASS invalid username-password pair: '${password}' was rejected\r\n`);
        } else socket.write('-NOAUTH Authentication required.\r\n');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    passwords,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
