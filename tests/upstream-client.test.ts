import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyError } from '../src/errors.js';
import { UpstreamClient, type UpstreamClientOptions } from '../src/upstream/http-client.js';
import { freePort } from './support/free-port.js';

interface TestServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

async function serve(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async (): Promise<void> => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  cleanups.push(close);
  return { url: `http://127.0.0.1:${port}`, port, close };
}

function client(baseUrl: string, overrides: Partial<UpstreamClientOptions> = {}): UpstreamClient {
  const c = new UpstreamClient({
    backend: 'test',
    baseUrl,
    connectTimeoutMs: 1000,
    firstByteTimeoutMs: 2000,
    idleTimeoutMs: 2000,
    ...overrides,
  });
  cleanups.push(() => c.close());
  return c;
}

async function caught(promise: Promise<unknown>): Promise<ProxyError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProxyError);
    return error as ProxyError;
  }
  throw new Error('expected a rejection');
}

async function drain(body: AsyncIterable<Uint8Array>): Promise<void> {
  for await (const chunk of body) void chunk;
}

const never = (): void => {};

describe('UpstreamClient', () => {
  it('sends a JSON request and reads a JSON response', async () => {
    const server = await serve((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.setHeader('x-multi', ['a', 'b']);
        res.end(JSON.stringify({ method: req.method, url: req.url, body, headers: req.headers }));
      });
    });
    const c = client(server.url, { headers: { 'X-Default': 'd', authorization: 'Bearer sk-1' } });
    const res = await c.request({ method: 'POST', path: '/v1/chat', body: '{"a":1}', headers: { 'x-extra': 'e' } });
    expect(res.status).toBe(200);
    expect(res.headers['x-multi']).toBe('a, b');
    const echo = await res.json<{ method: string; url: string; body: string; headers: Record<string, string> }>();
    expect(echo.method).toBe('POST');
    expect(echo.url).toBe('/v1/chat');
    expect(echo.body).toBe('{"a":1}');
    expect(echo.headers['x-default']).toBe('d');
    expect(echo.headers['x-extra']).toBe('e');
    expect(echo.headers.authorization).toBe('Bearer sk-1');
    expect(echo.headers['content-type']).toBe('application/json');
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const server = await serve((req, res) => res.end(String(req.socket.remotePort)));
    const c = client(server.url);
    const ports = new Set<string>();
    for (let i = 0; i < 4; i++) {
      ports.add(await (await c.request({ method: 'GET', path: '/' })).text());
      // undici frees the connection a tick after the body ends.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(ports.size).toBe(1);
  });

  it('streams the body incrementally', async () => {
    let releaseSecond = never;
    const secondAllowed = new Promise<void>((resolve) => (releaseSecond = resolve));
    let secondSent = false;
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first');
      void secondAllowed.then(() => {
        secondSent = true;
        res.end('second');
      });
    });
    const res = await client(server.url).request({ method: 'GET', path: '/' });
    const seen: Array<{ text: string; secondSent: boolean }> = [];
    for await (const chunk of res.body) {
      seen.push({ text: Buffer.from(chunk).toString(), secondSent });
      releaseSecond();
    }
    expect(seen[0]).toEqual({ text: 'first', secondSent: false });
    expect(seen.map((s) => s.text).join('')).toBe('firstsecond');
  });

  it('joins a base URL path prefix and query without double slashes', async () => {
    const server = await serve((req, res) => res.end(JSON.stringify({ url: req.url, auth: req.headers.authorization })));
    const base = `http://alice:s3cret@127.0.0.1:${server.port}/v2/abc/openai/v1/?api-version=7`;
    const c = client(base);
    const a = await (await c.request({ method: 'GET', path: '/chat/completions' })).json<{ url: string; auth: string }>();
    expect(a.url).toBe('/v2/abc/openai/v1/chat/completions?api-version=7');
    expect(a.auth).toBe(`Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    const b = await (await c.request({ method: 'GET', path: 'models?limit=2' })).json<{ url: string }>();
    expect(b.url).toBe('/v2/abc/openai/v1/models?api-version=7&limit=2');
    expect(c.safeBaseUrl).toBe(`http://127.0.0.1:${server.port}/v2/abc/openai/v1`);

    const plain = client(`${server.url}/`);
    expect((await (await plain.request({ method: 'GET', path: '/v1/models' })).json<{ url: string }>()).url).toBe('/v1/models');
  });

  it('maps connection refused to upstream_unreachable without leaking credentials or query secrets', async () => {
    const port = await freePort();
    const c = client(`http://bob:hunter2@127.0.0.1:${port}/v1?key=TOPSECRET`);
    const error = await caught(c.request({ method: 'GET', path: '/models?key=ALSOSECRET' }));
    expect(error.code).toBe('upstream_unreachable');
    expect(error.type).toBe('api_error');
    expect(error.status).toBe(502);
    expect(error.backend).toBe('test');
    expect(error.message).toContain(`http://127.0.0.1:${port}`);
    const everything = `${error.clientMessage()} ${error.recommendations.join(' ')}`;
    for (const secret of ['TOPSECRET', 'ALSOSECRET', 'key=', 'hunter2', 'bob:', '@127']) expect(everything).not.toContain(secret);
  });

  it('maps a DNS failure to upstream_unreachable', async () => {
    const c = client('http://no-such-host.invalid/v1');
    const error = await caught(c.request({ method: 'GET', path: '/models' }));
    expect(['upstream_unreachable', 'upstream_timeout']).toContain(error.code);
    if (error.code === 'upstream_unreachable') expect(error.message).toContain('no-such-host.invalid');
  });

  it('maps a stalled TLS handshake to a connect timeout', async () => {
    // resume() so the server notices the client giving up and closes its side.
    const silent = net.createServer((socket) => socket.on('error', never).resume());
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => silent.close(() => resolve())));
    const { port } = silent.address() as AddressInfo;
    const error = await caught(client(`https://127.0.0.1:${port}`, { connectTimeoutMs: 150 }).request({ method: 'GET', path: '/' }));
    expect(error.code).toBe('upstream_timeout');
    expect(error.type).toBe('timeout_error');
    expect(error.status).toBe(504);
    expect(error.message).toContain('150 ms');
    expect(error.message).toContain('connectTimeoutMs');
  });

  it('maps a missing response to a first-byte (headers) timeout', async () => {
    const server = await serve(never);
    const c = client(`http://u:p@127.0.0.1:${server.port}/v1?key=SECRET`, { firstByteTimeoutMs: 150 });
    const error = await caught(c.request({ method: 'POST', path: '/chat/completions', body: '{}' }));
    expect(error.code).toBe('upstream_timeout');
    expect(error.type).toBe('timeout_error');
    expect(error.status).toBe(504);
    expect(error.message).toContain('150 ms');
    expect(error.message).toContain('firstByteTimeoutMs');
    expect(error.message).toContain(`http://127.0.0.1:${server.port}/v1/chat/completions`);
    expect(error.clientMessage()).not.toContain('SECRET');
    expect(error.clientMessage()).not.toContain('u:p@');
  });

  it('maps a silent body to an idle timeout', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('partial');
    });
    const res = await client(server.url, { idleTimeoutMs: 150 }).request({ method: 'GET', path: '/' });
    const error = await caught(drain(res.body));
    expect(error.code).toBe('upstream_timeout');
    expect(error.type).toBe('timeout_error');
    expect(error.message).toContain('idleTimeoutMs');
    expect(error.message).toContain('150 ms');
  });

  it('maps a socket destroyed mid-body to upstream_disconnected', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const res = await client(server.url).request({ method: 'GET', path: '/' });
    const error = await caught(res.text());
    expect(error.code).toBe('upstream_disconnected');
    expect(error.type).toBe('api_error');
    expect(error.status).toBe(502);
  });

  it('maps a socket destroyed before the response to upstream_disconnected', async () => {
    const server = await serve((req) => req.socket.destroy());
    const error = await caught(client(server.url).request({ method: 'GET', path: '/' }));
    expect(error.code).toBe('upstream_disconnected');
    expect(error.status).toBe(502);
  });

  it('aborts the upstream request mid-body when the caller aborts', async () => {
    let upstreamClosed = never;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const server = await serve((req, res) => {
      req.socket.on('close', () => upstreamClosed());
      res.writeHead(200);
      res.write('chunk');
    });
    const controller = new AbortController();
    const res = await client(server.url).request({ method: 'GET', path: '/', signal: controller.signal });
    const reading = caught(
      (async () => {
        for await (const chunk of res.body) {
          void chunk;
          controller.abort();
        }
      })(),
    );
    const error = await reading;
    expect(error.code).toBe('client_closed');
    expect(error.type).toBe('api_error');
    expect(error.status).toBe(499);
    await closed;
  });

  it('reads the rest of a body its consumer left early, so the connection serves the next request', async () => {
    let releaseRest = never;
    const restAllowed = new Promise<void>((resolve) => (releaseRest = resolve));
    let firstSocket: net.Socket | undefined;
    const server = await serve((req, res) => {
      if (req.url === '/stream') {
        firstSocket = req.socket;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: [DONE]\n\n');
        void restAllowed.then(() => res.end('data: {"trailing":"usage"}\n\n'));
        return;
      }
      res.end(req.socket === firstSocket ? 'same' : 'other');
    });
    const c = client(server.url);
    const res = await c.request({ method: 'GET', path: '/stream' });
    for await (const chunk of res.body) {
      expect(Buffer.from(chunk).toString()).toContain('[DONE]');
      break; // as an OpenAI stream's reader does at [DONE]
    }
    releaseRest();
    // Until the rest is read, a request may go out on a new connection; once it is, the first one serves again.
    const deadline = Date.now() + 10_000;
    let answer = 'other';
    while (answer !== 'same' && Date.now() < deadline) {
      answer = await (await c.request({ method: 'GET', path: '/again' })).text();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(answer).toBe('same');
    expect(firstSocket?.destroyed).toBe(false);
  });

  it('aborts the upstream request before the response when the caller aborts', async () => {
    let upstreamClosed = never;
    const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
    const server = await serve((req) => req.socket.on('close', () => upstreamClosed()));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await caught(client(server.url).request({ method: 'POST', path: '/', body: '{}', signal: controller.signal }));
    expect(error.code).toBe('client_closed');
    expect(error.status).toBe(499);
    await closed;
  });

  it('maps a non-HTTP answer to upstream_malformed', async () => {
    const bogus = net.createServer((socket) => socket.on('error', never).resume().end('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
    await new Promise<void>((resolve) => bogus.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => bogus.close(() => resolve())));
    const { port } = bogus.address() as AddressInfo;
    const error = await caught(client(`http://127.0.0.1:${port}`).request({ method: 'GET', path: '/' }));
    expect(error.code).toBe('upstream_malformed');
    expect(error.status).toBe(502);
  });

  it('rejects at once with an already-aborted signal', async () => {
    const server = await serve((_req, res) => res.end('x'));
    const error = await caught(client(server.url).request({ method: 'GET', path: '/', signal: AbortSignal.abort() }));
    expect(error.code).toBe('client_closed');
  });

  it('enforces the per-request deadline over the whole exchange', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('slow');
    });
    const res = await client(server.url).request({ method: 'GET', path: '/', timeoutMs: 150 });
    const error = await caught(res.text());
    expect(error.code).toBe('upstream_timeout');
    expect(error.message).toContain('150 ms');
  });

  it('lets the deadline replace the first-byte timeout', async () => {
    const server = await serve((_req, res) => setTimeout(() => res.end('late'), 250));
    const c = client(server.url, { firstByteTimeoutMs: 100 });
    expect(await (await c.request({ method: 'GET', path: '/', timeoutMs: 2000 })).text()).toBe('late');
  });

  it('reports a non-JSON body from json() as upstream_malformed', async () => {
    const server = await serve((_req, res) => res.end('<html>oops</html>'));
    const error = await caught((await client(server.url).request({ method: 'GET', path: '/' })).json());
    expect(error.code).toBe('upstream_malformed');
    expect(error.message).toContain('<html>oops</html>');
  });

  it('rejects an invalid base URL', () => {
    expect(() => client('not a url')).toThrow(ProxyError);
    expect(() => client('ftp://example.com')).toThrow(/http or https/);
  });
});
