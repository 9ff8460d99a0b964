import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyError } from '../src/errors.js';
import { UpstreamClient } from '../src/upstream/http-client.js';
import { parseJSONEvents } from '../src/upstream/json-stream.js';
import { readNDJSON, readSSE, type SSEEvent } from '../src/upstream/sse-reader.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A real server that writes the given pieces with a pause between each; returns the body stream. */
async function bodyFrom(pieces: Array<string | Buffer>, gapMs = 30): Promise<AsyncIterable<Uint8Array>> {
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    void (async () => {
      for (const piece of pieces) {
        res.write(piece);
        await sleep(gapMs);
      }
      res.end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = new UpstreamClient({
    backend: 'sse',
    baseUrl: `http://127.0.0.1:${port}`,
    connectTimeoutMs: 1000,
    firstByteTimeoutMs: 1000,
    idleTimeoutMs: 1000,
  });
  cleanups.push(async () => {
    await client.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (await client.request({ method: 'GET', path: '/' })).body;
}

async function* bytes(...pieces: Array<string | Uint8Array>): AsyncIterable<Uint8Array> {
  for (const piece of pieces) yield typeof piece === 'string' ? new TextEncoder().encode(piece) : piece;
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

function split(text: string, at: number): [Buffer, Buffer] {
  const buffer = Buffer.from(text);
  return [buffer.subarray(0, at), buffer.subarray(at)];
}

describe('readSSE', () => {
  it('keeps multi-byte characters split across network writes', async () => {
    const euro = 'data: {"t":"€"}\n\n';
    const emoji = 'data: {"t":"🙂"}\n\n';
    const [e1, e2] = split(euro, euro.indexOf('€') + 1);
    const [m1, m2] = split(emoji, Buffer.from(emoji).indexOf(0xf0) + 2);
    const events = await collect(readSSE(await bodyFrom([e1, e2, m1, m2])));
    expect(events).toEqual([{ data: '{"t":"€"}' }, { data: '{"t":"🙂"}' }]);
  });

  it('yields each event as soon as it is complete', async () => {
    let written = 0;
    async function* slow(): AsyncIterable<Uint8Array> {
      written = 1;
      yield new TextEncoder().encode('data: one\n\ndata: tw');
      written = 2;
      yield new TextEncoder().encode('o\n\n');
    }
    const seen: Array<[string, number]> = [];
    for await (const event of readSSE(slow())) seen.push([event.data, written]);
    expect(seen).toEqual([
      ['one', 1],
      ['two', 2],
    ]);
  });

  it('yields the first event from a real server before the second is written', async () => {
    const body = await bodyFrom(['data: first\n\n', 'data: second\n\n'], 200);
    const started = Date.now();
    const iterator = readSSE(body)[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.value).toEqual({ data: 'first' });
    expect(Date.now() - started).toBeLessThan(150);
    expect((await iterator.next()).value).toEqual({ data: 'second' });
  });

  it('handles CRLF, event names, multi-line data and comments', async () => {
    const events = await collect(
      readSSE(
        bytes(
          ': keep-alive\r\n\r\n',
          'event: message_start\r\ndata: {"a":1}\r\n\r',
          '\nevent: ping\r\ndata: line1\r\ndata: line2\r\n\r\n',
          'id: 7\r\nretry: 1000\r\ndata: x\r\n\r\n',
        ),
      ),
    );
    const expected: SSEEvent[] = [
      { event: 'message_start', data: '{"a":1}' },
      { event: 'ping', data: 'line1\nline2' },
      { data: 'x' },
    ];
    expect(events).toEqual(expected);
  });

  it('yields a final event that lacks the closing blank line', async () => {
    expect(await collect(readSSE(bytes('data: a\n\n', 'data: [DONE]\n')))).toEqual([{ data: 'a' }, { data: '[DONE]' }]);
    expect(await collect(readSSE(bytes('data: a')))).toEqual([{ data: 'a' }]);
  });

  it('passes upstream errors through', async () => {
    async function* broken(): AsyncIterable<Uint8Array> {
      yield new TextEncoder().encode('data: a\n\n');
      throw new ProxyError('gone', { code: 'upstream_disconnected', type: 'api_error', status: 502 });
    }
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of readSSE(broken())) seen.push(event.data);
      })(),
    ).rejects.toMatchObject({ code: 'upstream_disconnected' });
    expect(seen).toEqual(['a']);
  });
});

describe('readNDJSON', () => {
  it('reassembles partial lines, skips blank ones and yields the unterminated last line', async () => {
    const lines = await collect(readNDJSON(bytes('{"a":1}\n{"b"', ':2}\r\n\n  \n', '{"c":3}')));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
  });

  it('keeps multi-byte characters split across network writes', async () => {
    const text = '{"t":"€🙂"}\n{"t":"ok"}\n';
    const buffer = Buffer.from(text);
    const cut = buffer.indexOf(0xf0) + 1;
    const lines = await collect(readNDJSON(await bodyFrom([buffer.subarray(0, 8), buffer.subarray(8, cut), buffer.subarray(cut)])));
    expect(lines).toEqual(['{"t":"€🙂"}', '{"t":"ok"}']);
  });
});

describe('parseJSONEvents', () => {
  it('parses each event and stops at [DONE] without reading further', async () => {
    let pulledAfterDone = false;
    async function* events(): AsyncIterable<{ data: string }> {
      yield { data: '{"n":1}' };
      yield { data: '' };
      yield { data: '{"n":2}' };
      yield { data: '[DONE]' };
      pulledAfterDone = true;
      yield { data: '{"n":3}' };
    }
    const values = await collect(parseJSONEvents<{ n: number }>(events(), { backend: 'b' }));
    expect(values).toEqual([{ n: 1 }, { n: 2 }]);
    expect(pulledAfterDone).toBe(false);
  });

  it('accepts a custom end marker', async () => {
    const values = await collect(
      parseJSONEvents<{ done?: boolean }>(bytesToEvents(['{"a":1}', '{"done":true}', '{"b":2}']), {
        backend: 'b',
        isDone: (data) => data.includes('"done":true'),
      }),
    );
    expect(values).toEqual([{ a: 1 }]);
  });

  it('throws upstream_malformed quoting the first 200 characters', async () => {
    const garbage = `{"oops": ${'x'.repeat(500)}`;
    const error: unknown = await collect(parseJSONEvents(bytesToEvents([garbage]), { backend: 'cerebras' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyError);
    const proxyError = error as ProxyError;
    expect(proxyError.code).toBe('upstream_malformed');
    expect(proxyError.type).toBe('api_error');
    expect(proxyError.status).toBe(502);
    expect(proxyError.backend).toBe('cerebras');
    expect(proxyError.message).toContain(JSON.stringify(garbage.slice(0, 200)));
    expect(proxyError.message).not.toContain('x'.repeat(192)); // the first 200 chars hold 191
  });
});

async function* bytesToEvents(data: string[]): AsyncIterable<{ data: string }> {
  for (const item of data) yield { data: item };
}
