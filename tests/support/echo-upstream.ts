// A hostile upstream: a real node:http server on 127.0.0.1 that rejects every request and quotes
// the credential it received (as many servers and gateways do: "Incorrect API key provided:
// csk-..."). It answers every path (chat, messages, /api/chat, model lists, health probes), so a
// request, a model probe and /health all meet the echo.
//
//   const echo = await startEchoUpstream();
//   echo.mode = 'html';   // json | text | html | sse | sse-after-start | header
//   echo.split = true;    // the body in two writes, cut through the middle of the credential

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type EchoMode = 'json' | 'text' | 'html' | 'sse' | 'sse-after-start' | 'header';

export interface EchoUpstream {
  readonly url: string;
  mode: EchoMode;
  /** Write the body in two parts, cut through the middle of the echoed credential. */
  split: boolean;
  /** The credentials received, in arrival order (`Bearer x`, `Basic y`, or an `x-api-key`). */
  readonly received: string[];
  close(): Promise<void>;
}

/** What the proxy authenticated with: the Bearer token, the x-api-key, or the whole `Basic ...` value. */
function credentialOf(req: IncomingMessage): string {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') return auth.startsWith('Bearer ') ? auth.slice(7) : auth;
  const key = req.headers['x-api-key'];
  return typeof key === 'string' ? key : '(none)';
}

const MESSAGE_START = {
  type: 'message_start',
  message: { id: 'msg_echo', type: 'message', role: 'assistant', model: 'm', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } },
};

function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  /** The body around the credential: `before + credential + after`. */
  before: string;
  after: string;
}

function answerFor(mode: EchoMode, credential: string): Answer {
  switch (mode) {
    case 'json': {
      const [before, after] = JSON.stringify({ error: { message: `Incorrect API key provided: ${credential}.`, type: 'invalid_request_error', code: 'invalid_api_key' } }).split(credential);
      return { status: 401, headers: { 'content-type': 'application/json' }, before: before ?? '', after: after ?? '' };
    }
    case 'text':
      return { status: 401, headers: { 'content-type': 'text/plain' }, before: 'Unauthorized: the key ', after: ' is not valid for this server' };
    case 'html':
      return {
        status: 401,
        headers: { 'content-type': 'text/html' },
        before: '<html><head><title>401 Authorization Required</title></head><body><h1>401</h1><p>Rejected credentials: ',
        after: '</p><hr><center>nginx</center></body></html>',
      };
    case 'sse':
    case 'sse-after-start': {
      const data = { type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key: ${credential}` } };
      const [before, after] = sse('error', data).split(credential);
      const start = mode === 'sse-after-start' ? sse('message_start', MESSAGE_START) : '';
      return { status: 200, headers: { 'content-type': 'text/event-stream' }, before: start + (before ?? ''), after: after ?? '' };
    }
    case 'header':
      return {
        status: 401,
        headers: { 'content-type': 'application/json', 'www-authenticate': `Bearer realm="api", error="invalid_token", token="${credential}"`, 'x-rejected-key': credential },
        before: JSON.stringify({ error: { message: 'invalid credentials (see headers)', type: 'invalid_request_error' } }),
        after: '',
      };
  }
}

export async function startEchoUpstream(): Promise<EchoUpstream> {
  const sockets = new Set<Socket>();
  const received: string[] = [];
  const state = { mode: 'json' as EchoMode, split: false };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume();
    req.on('end', () => {
      const credential = credentialOf(req);
      received.push(credential);
      // Model lists and health probes get the JSON echo whatever the mode; the chat endpoints get the mode's.
      const chat = req.method === 'POST' && /\/(chat\/completions|messages|api\/chat)$/.test(req.url?.split('?')[0] ?? '');
      const mode = chat || state.mode === 'header' ? state.mode : state.mode.startsWith('sse') ? 'json' : state.mode;
      const answer = answerFor(mode, credential);
      res.writeHead(answer.status, answer.headers);
      if (!state.split) {
        res.end(answer.before + credential + answer.after);
        return;
      }
      const cut = Math.floor(credential.length / 2);
      // The second half in its own TCP segment, once the first has gone out.
      res.write(answer.before + credential.slice(0, cut), () => setImmediate(() => res.end(credential.slice(cut) + answer.after)));
    });
  });
  server.on('connection', (socket: Socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get mode() {
      return state.mode;
    },
    set mode(mode: EchoMode) {
      state.mode = mode;
    },
    get split() {
      return state.split;
    },
    set split(split: boolean) {
      state.split = split;
    },
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
