import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { openaiBackend, parseSSE, postMessages, startProxy, type TestProxy, NO_CIRCUIT, parseError } from './support/proxy.js';
import { freePort } from './support/free-port.js';

const ok = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

// The request's shape (model, max_tokens, messages, tool_choice, unknown fields) is the
// request-validation plugin's: src/plugins/request/validation/validation.test.ts; an unknown
// backend is default-router's: src/plugins/request/default-router/routing-rules.test.ts.
describe('bad input gets Anthropic errors and the server keeps serving', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('still here') });
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, server: { bodyLimit: '200kb' }, plugins: [NO_CIRCUIT] });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });

  const cases: Array<[string, unknown, number, string, RegExp]> = [
    ['invalid JSON', '{"model": ', 400, 'invalid_request_error', /not valid JSON/],
    ['a JSON array', '[1,2]', 400, 'invalid_request_error', /JSON object/],
  ];

  for (const [name, body, status, type, message] of cases) {
    it(`rejects ${name}`, async () => {
      const res = await postMessages(px.url, body);
      expect(res.status).toBe(status);
      const error = parseError(res.text);
      expect(error.type).toBe('error');
      expect(error.error.type).toBe(type);
      expect(error.error.message).toMatch(message);
      expect(error.request_id).toBe(res.headers.get('request-id'));
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    });
  }

  it('rejects an oversize body with 413 request_too_large', async () => {
    const big = { ...ok, messages: [{ role: 'user', content: 'x'.repeat(300_000) }] };
    const res = await postMessages(px.url, big);
    expect(res.status).toBe(413);
    expect(parseError(res.text).error.type).toBe('request_too_large');
  });

  it('answers unknown endpoints with not_found_error', async () => {
    const res = await fetch(`${px.url}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(parseError(await res.text()).error.type).toBe('not_found_error');
  });

  it('still serves after all of the above', async () => {
    const res = await postMessages(px.url, ok);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).content[0].text).toBe('still here');
  });
});

describe('upstream faults', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  const SECRET = 'sk-upstream-SECRET-abc123';
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    px = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: openaiBackend(upstream.url, { apiKey: SECRET }),
        dead: { type: 'openai', url: `http://127.0.0.1:${await freePort()}/v1`, apiKey: SECRET },
      },
      server: { firstByteTimeoutMs: 300, idleTimeoutMs: 300, pingIntervalMs: 0 },
      plugins: [NO_CIRCUIT],
    });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  it('connection refused -> 502 api_error naming the backend and what to do', async () => {
    const res = await postMessages(px.url, { ...ok, model: 'dead/m' });
    expect(res.status).toBe(502);
    // Nothing listens on this machine: retrying cannot help until someone starts the backend.
    expect(res.headers.get('x-should-retry')).toBe('false');
    const error = parseError(res.text);
    expect(error.error.type).toBe('api_error');
    expect(error.error.message).toMatch(/dead/);
    expect(error.error.message).toMatch(/127\.0\.0\.1/);
  });

  it.each([
    // The backend rejected the proxy's own key: the proxy's fault (502). Its 404 names the
    // model (code model_not_found): a 400, as Claude Code replaces a 404's message.
    [401, 'api_error'],
    [404, 'invalid_request_error'],
    [429, 'rate_limit_error'],
    [500, 'api_error'],
  ])('upstream %i -> %s with the provider message', async (status, type) => {
    upstream.enqueue({ kind: 'error', status, message: `provider says ${status}`, headers: status === 429 ? { 'retry-after': '7' } : {} });
    const res = await postMessages(px.url, ok);
    const error = parseError(res.text);
    expect(error.error.type).toBe(type);
    expect(error.error.message).toContain(`provider says ${status}`);
    expect(res.headers.get('x-should-retry')).toBe(status === 401 || status === 404 ? 'false' : 'true');
    if (status === 429) {
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
    }
  });

  it('a timeout before the first byte -> timeout error', async () => {
    upstream.enqueue({ kind: 'hang' });
    const res = await postMessages(px.url, ok);
    expect(res.status).toBe(504);
    expect(res.headers.get('x-should-retry')).toBe('true');
    expect(parseError(res.text).error.type).toBe('timeout_error');
  });

  it('a stream cut mid-way ends with event: error, never a clean message_stop', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('a b c d e f', { pieces: 6 }), cutAfter: 3 });
    const res = await postMessages(px.url, { ...ok, stream: true });
    expect(res.status).toBe(200);
    const events = parseSSE(res.text);
    expect(events.at(-1)?.event).toBe('error');
    expect(events.map((e) => e.event)).not.toContain('message_stop');
  });

  it('a malformed chunk -> event: error', async () => {
    upstream.enqueue({
      kind: 'raw',
      headers: { 'content-type': 'text/event-stream' },
      parts: [
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'hi' }, finish_reason: null }] })}\n\n`,
        'data: {not json\n\n',
      ],
    });
    const res = await postMessages(px.url, { ...ok, stream: true });
    const events = parseSSE(res.text);
    expect(events.at(-1)?.event).toBe('error');
    expect(JSON.stringify(events.at(-1)?.data)).toMatch(/malformed|not valid/i);
  });

  it('the SDK sees a cut stream as an error, not a short answer', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('a b c d', { pieces: 4 }), cutAfter: 2 });
    const client = new Anthropic({ baseURL: px.url, apiKey: 'k', maxRetries: 0 });
    await expect(client.messages.stream({ ...ok, messages: [{ role: 'user', content: 'x' }] }).finalMessage()).rejects.toThrow();
  });

  it('a client that disconnects aborts its upstream request', async () => {
    upstream.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const closed = upstream.waitForClientClose(5_000);
    const request = fetch(`${px.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...ok, stream: true }),
      signal: controller.signal,
    }).catch(() => undefined);
    await upstream.waitForRequests(1, { endpoint: 'chat' });
    controller.abort();
    await request;
    await expect(closed).resolves.toBeUndefined();
  });

  it('never shows the API key in anything it logged or returned', async () => {
    const returned: string[] = [];
    upstream.enqueue({ kind: 'error', status: 401, message: 'Wrong API Key' }, { kind: 'error', status: 500 });
    returned.push((await postMessages(px.url, ok)).text);
    returned.push((await postMessages(px.url, ok)).text);
    returned.push((await postMessages(px.url, { ...ok, model: 'dead/m' })).text);
    returned.push(await (await fetch(`${px.url}/health`)).text());
    returned.push(await (await fetch(`${px.url}/_llm-proxy/status`)).text());
    expect(upstream.chatRequests[0]!.headers.authorization).toBe(`Bearer ${SECRET}`);
    const everything = [...returned, ...px.logs].join('\n');
    expect(everything.length).toBeGreaterThan(100);
    expect(everything).not.toContain(SECRET);
  });
});
