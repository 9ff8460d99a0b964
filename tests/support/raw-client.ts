// An HTTP/1.1 client on a plain TCP socket that writes its whole request before it looks at
// the answer, as Python's http.client and many simple clients do. It shows what Node's own
// client and undici hide: whether an early answer (413, 401, 404) survives the client still
// sending its body, or the connection is reset under it.

import { connect } from 'node:net';

export interface RawExchange {
  /** 0 when no status line arrived. */
  status: number;
  headers: Record<string, string>;
  /** The response body, as far as it arrived. */
  body: string;
  /** The socket error the client saw (`EPIPE`, `ECONNRESET`), if any. */
  error?: string;
  /** The server closed the connection (the client never closes first). */
  closedByServer: boolean;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** Sent with a content-length. */
  body?: Buffer;
  /** Sent chunked, one chunk per item, until the iterator ends (it may never end). */
  chunks?: AsyncIterable<Buffer> | Iterable<Buffer>;
}

/** One request on a fresh connection; resolves once the server closed it. */
export function rawRequest(url: string, req: RawRequest): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    const received: Buffer[] = [];
    let error: string | undefined;
    let stopped = false;
    socket.on('data', (data: Buffer) => received.push(data));
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error ??= e.code ?? e.message;
    });
    socket.on('close', () => {
      stopped = true;
      resolve({ ...parseResponse(Buffer.concat(received)), error, closedByServer: true });
    });
    const framing = req.body ? { 'content-length': String(req.body.length) } : req.chunks ? { 'transfer-encoding': 'chunked' } : {};
    const headers = { host: `${hostname}:${port}`, 'content-type': 'application/json', ...framing, ...req.headers };
    const head = `${req.method ?? 'POST'} ${req.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    socket.write(head);
    if (req.body) {
      socket.write(req.body);
      return;
    }
    if (!req.chunks) return;
    const chunks = req.chunks;
    void (async () => {
      for await (const chunk of chunks) {
        if (stopped) return;
        socket.write(`${chunk.length.toString(16)}\r\n`);
        socket.write(chunk);
        if (!socket.write('\r\n')) await new Promise((done) => {
          socket.once('drain', done);
          socket.once('close', done);
        });
      }
      if (!stopped) socket.write('0\r\n\r\n');
    })().catch(() => undefined);
  });
}

function parseResponse(raw: Buffer): Omit<RawExchange, 'error' | 'closedByServer'> {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, headers: {}, body: '' };
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = Number(headers['content-length'] ?? Number.NaN);
  const rest = raw.subarray(end + 4);
  const body = (Number.isFinite(length) ? rest.subarray(0, length) : rest).toString('utf8');
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body };
}
