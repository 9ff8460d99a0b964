import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../src/http/body.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { fixturesPresent, fixturesRequired, loadFixture } from './support/fixtures.js';
import { openaiBackend, parseSSE, postMessages, startProxy, type ErrorJson, type TestProxy } from './support/proxy.js';
import { rawRequest, type RawExchange } from './support/raw-client.js';

const ok = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
const KEY = 'client-key-for-tests';
const FORTY_MB = Buffer.alloc(40 * 1024 * 1024, 'a');

function expectError(exchange: RawExchange, status: number, type: string): void {
  expect({ status: exchange.status, error: exchange.error }).toEqual({ status, error: undefined });
  const json = JSON.parse(exchange.body) as ErrorJson;
  expect(json.type).toBe('error');
  expect(json.error.type).toBe(type);
  expect(json.request_id).toBe(exchange.headers['request-id']);
}

/** Chunks forever (64 KB each), as fast as the socket takes them. */
function* endless(): Generator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  for (;;) yield chunk;
}

/** 1 KB chunks forever, 20 a second. */
async function* trickle(): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(1024, 'a');
  for (;;) {
    yield chunk;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('an answer given before the body was read reaches a client still sending it', () => {
  let upstream: FakeUpstream;
  let open: TestProxy;
  let locked: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('still here') });
    const config = { backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, server: { bodyLimit: '1mb' } };
    open = await startProxy(config);
    locked = await startProxy({ ...config, auth: { keys: [KEY] } });
  });
  afterAll(async () => {
    await open.close();
    await locked.close();
    await upstream.close();
  });

  const cases = [
    { name: '413 for a body over server.bodyLimit', proxy: () => open, path: '/v1/messages', status: 413, type: 'request_too_large' },
    { name: '404 for an unknown path', proxy: () => open, path: '/v1/nosuch', status: 404, type: 'not_found_error' },
    { name: '401 without a client key', proxy: () => locked, path: '/v1/messages', status: 401, type: 'authentication_error' },
  ];

  for (const { name, proxy, path, status, type } of cases) {
    for (const close of [true, false]) {
      it(`${name}, 40 MB body, ${close ? 'Connection: close' : 'keep-alive'}, 10 times`, { timeout: 120_000 }, async () => {
        for (let i = 0; i < 10; i++) {
          const exchange = await rawRequest(proxy().url, { path, body: FORTY_MB, headers: close ? { connection: 'close' } : {} });
          expectError(exchange, status, type);
          // The server closes the connection it did not read to the end, and says so.
          expect(exchange.headers.connection).toBe('close');
        }
        const res = await postMessages(proxy().url, ok, { 'x-api-key': KEY });
        expect(res.status).toBe(200);
      });
    }

    it(`${name}, 40 MB chunked body, 3 times`, { timeout: 60_000 }, async () => {
      for (let i = 0; i < 3; i++) {
        const pieces = Array.from({ length: 40 }, (_, n) => FORTY_MB.subarray(n * 1024 * 1024, (n + 1) * 1024 * 1024));
        expectError(await rawRequest(proxy().url, { path, chunks: pieces }), status, type);
      }
      expect((await postMessages(proxy().url, ok, { 'x-api-key': KEY })).status).toBe(200);
    });
  }

  it('reaches fetch (undici) too, with and without Connection: close', { timeout: 60_000 }, async () => {
    for (const headers of [{}, { connection: 'close' }] as Array<Record<string, string>>) {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${open.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: FORTY_MB });
        expect(res.status).toBe(413);
        expect(((await res.json()) as ErrorJson).error.type).toBe('request_too_large');
      }
    }
  });

  it('does not let a client that never stops sending hold the connection (bytes bound)', { timeout: 60_000 }, async () => {
    const exchange = await rawRequest(open.url, { path: '/v1/nosuch', chunks: endless() });
    expect(exchange.closedByServer).toBe(true);
    expect(exchange.status).toBe(404);
    expect((await postMessages(open.url, ok)).status).toBe(200);
  });

  it('does not let a client that trickles forever hold the connection (time bound)', { timeout: 60_000 }, async () => {
    const exchange = await rawRequest(locked.url, { path: '/v1/messages', chunks: trickle() });
    expect(exchange.closedByServer).toBe(true);
    expectError({ ...exchange, error: undefined }, 401, 'authentication_error');
    expect((await postMessages(locked.url, ok, { 'x-api-key': KEY })).status).toBe(200);
  });

  it('answers a rejected small body that had fully arrived the same way', async () => {
    const small = Buffer.from(JSON.stringify(ok));
    const exchange = await rawRequest(locked.url, { path: '/v1/messages', body: small, headers: { connection: 'close' } });
    expectError(exchange, 401, 'authentication_error');
  });
});

/** `{"a":{"a":...1...}}` nested `depth` objects deep. */
const nested = (depth: number): string => '{"a":'.repeat(depth - 1) + '{"a":1' + '}'.repeat(depth);

const withDeepSchema = (depth: number, stream: boolean): string =>
  `{"model":"claude-sonnet-4-5","max_tokens":10,"stream":${stream},"messages":[{"role":"user","content":"hi"}],` +
  `"tools":[{"name":"deep","description":"d","input_schema":{"type":"object","properties":${nested(depth)}}}]}`;

const withDeepContent = (depth: number, stream: boolean): string =>
  `{"model":"claude-sonnet-4-5","max_tokens":10,"stream":${stream},"messages":[{"role":"user","content":"run it"},` +
  `{"role":"assistant","content":[{"type":"tool_use","id":"toolu_1","name":"deep","input":${nested(depth)}}]},` +
  `{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"done"}]}]}`;

describe('deeply nested JSON is a 400 naming the limit, not a crash', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('still here') });
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) } });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });

  const bodies = { 'tools[].input_schema': withDeepSchema, 'message content': withDeepContent };
  for (const [where, build] of Object.entries(bodies)) {
    for (const path of ['/v1/messages', '/v1/messages/count_tokens']) {
      for (const stream of [true, false]) {
        it(`6,000 levels in ${where}, ${path}, stream ${stream}`, async () => {
          const res = await postMessages(px.url, build(6000, stream));
          expect(res.status).toBe(400);
          const json = JSON.parse(res.text) as ErrorJson;
          expect(json.error.type).toBe('invalid_request_error');
          expect(json.error.message).toContain(`${MAX_JSON_DEPTH} levels`);
          expect((await postMessages(px.url, ok)).status).toBe(200);
        });
      }
    }
  }

  it('accepts nesting up to the limit', async () => {
    // The body, tools, the tool and input_schema are 4 levels around the nested properties.
    expect((await postMessages(px.url, withDeepSchema(MAX_JSON_DEPTH - 4, false))).status).toBe(200);
    expect((await postMessages(px.url, withDeepSchema(MAX_JSON_DEPTH - 3, false))).status).toBe(400);
    // The body, messages, the message, its content and the tool_use block: 5 levels.
    expect((await postMessages(px.url, withDeepContent(MAX_JSON_DEPTH - 5, false))).status).toBe(200);
    expect((await postMessages(px.url, withDeepContent(MAX_JSON_DEPTH - 4, false))).status).toBe(400);
  });

  it('is not fooled by brackets inside strings', async () => {
    const text = `${'{['.repeat(5000)} "\\" {{{ \\\\`;
    const res = await postMessages(px.url, { ...ok, messages: [{ role: 'user', content: text }] });
    expect(res.status).toBe(200);
  });

  describe.skipIf(!fixturesPresent && !fixturesRequired)('a real Claude Code request', () => {
    it('still streams an answer', async () => {
      const res = await postMessages(px.url, loadFixture('pong-turn1').raw);
      expect(res.status).toBe(200);
      expect(parseSSE(res.text).map((e) => e.event)).toContain('message_stop');
    });
  });
});
