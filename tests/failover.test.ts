import { afterEach, describe, expect, it } from 'vitest';
import type { UserConfig } from '../src/config/types.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream, type Reply } from './support/fake-upstream.js';
import { freePort } from './support/free-port.js';
import { openaiBackend, parseError, parseSSE, postMessages, startProxy, type TestProxy } from './support/proxy.js';

// Failover (issue 9 item 3) against real loopback upstreams: what is retried, what moves to the
// next backend, in which order, and that nothing is resent once the client got a byte.

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

async function upstream(format: 'openai' | 'cerebras' = 'openai'): Promise<FakeUpstream> {
  const fake = await startFakeUpstream({ format });
  opened.push(fake);
  return fake;
}

async function proxy(config: UserConfig): Promise<TestProxy> {
  const px = await startProxy(config);
  opened.push(px);
  return px;
}

const FAST = { mode: 'auto', baseDelayMs: 10, maxDelayMs: 50 } as const;
let asked = 0;
const ask = (url: string, extra: Record<string, unknown> = {}) =>
  postMessages(url, { model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: `question ${++asked}` }], ...extra });
const reply = (text: string): Reply => ({ kind: 'openai-stream', chunks: openaiTextChunks(text) });
const chats = (fake: FakeUpstream) => fake.chatRequests.length;
const streamedText = (body: string) =>
  parseSSE(body)
    .map((e) => e.data as { delta?: { text?: string } })
    .map((data) => data.delta?.text ?? '')
    .join('');
const textOf = (body: string) => (JSON.parse(body) as { content: Array<{ text?: string }> }).content.map((block) => block.text ?? '').join('');

describe('failover: "auto"', () => {
  it('retries a 5xx on the same backend with backoff, then moves to the fallback; the answer names who served it', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'error', status: 503, message: 'loading model' });
    spare.enqueue(reply('from the spare'));
    const px = await proxy({ backend: 'gpu', failover: { ...FAST, retries: 2 }, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });

    const res = await ask(px.url);
    expect(res.status).toBe(200);
    expect(textOf(res.text)).toBe('from the spare');
    expect(res.headers.get('x-llm-proxy-backend')).toBe('spare');
    expect(chats(gpu)).toBe(3);
    expect(chats(spare)).toBe(1);
    // The access log line names the backend that served and what was tried before.
    const line = px.logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === 'messages');
    expect(line).toMatchObject({ backend: 'spare', status: 200 });
    expect(String(line?.tried)).toMatch(/^gpu: upstream_503; gpu: upstream_503; gpu: upstream_503$/);
  });

  it('a transient failure that passes on the second try stays on the same backend', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.enqueue({ kind: 'error', status: 502, message: 'bad gateway' });
    gpu.enqueue(reply('second try'));
    const px = await proxy({ backend: 'gpu', failover: FAST, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url);
    expect(res.status).toBe(200);
    expect(textOf(res.text)).toBe('second try');
    expect(res.headers.get('x-llm-proxy-backend')).toBe('gpu');
    expect(chats(spare)).toBe(0);
  });

  it('a connection refused is retried, then the fallback answers', async () => {
    const spare = await upstream();
    spare.enqueue(reply('refused elsewhere'));
    const dead = `http://127.0.0.1:${await freePort()}`;
    const px = await proxy({ backend: 'gpu', failover: FAST, backends: { gpu: openaiBackend(dead), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-backend')).toBe('spare');
  });

  it("never resends a request the client got wrong (the upstream's 400): one request, its error", async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'error', status: 400, message: 'messages: bad role' });
    const px = await proxy({ backend: 'gpu', failover: FAST, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url);
    expect(res.status).toBe(400);
    expect(parseError(res.text).error.message).toContain('bad role');
    expect(chats(gpu)).toBe(1);
    expect(chats(spare)).toBe(0);
  });

  it('a used-up daily quota is not retried: the next backend gets the request at once', async () => {
    const cerebras = await upstream('cerebras');
    const gpu = await upstream();
    cerebras.setFallback({ kind: 'error', status: 429, message: 'Requests per day limit exceeded', rateLimit: { remainingRequestsDay: 0, resetRequestsDay: 30_000 } });
    gpu.enqueue(reply('gpu instead'));
    const px = await proxy({
      backend: 'cerebras',
      failover: FAST,
      backends: { cerebras: { type: 'cerebras', apiKey: 'csk-test-0123456789', apiUrl: `${cerebras.url}/v1`, model: 'gpt-oss-120b' }, gpu: openaiBackend(gpu.url) },
    });
    const res = await ask(px.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-backend')).toBe('gpu');
    expect(chats(cerebras)).toBe(1);

    // The advisor now knows the daily limit is used up: the next request goes to the GPU first.
    gpu.enqueue(reply('gpu again'));
    const next = await ask(px.url);
    expect(next.headers.get('x-llm-proxy-backend')).toBe('gpu');
    expect(chats(cerebras)).toBe(1);
  });

  it("waits out a short 429's retry-after on the same backend, and moves on from a long one", async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.enqueue({ kind: 'error', status: 429, message: 'slow down', headers: { 'retry-after': '1' } });
    gpu.enqueue(reply('after the wait'));
    const px = await proxy({ backend: 'gpu', failover: FAST, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const short = await ask(px.url);
    expect(textOf(short.text)).toBe('after the wait');
    expect(chats(gpu)).toBe(2);

    gpu.enqueue({ kind: 'error', status: 429, message: 'slow down', headers: { 'retry-after': '40' } });
    spare.enqueue(reply('no waiting'));
    const long = await ask(px.url);
    expect(textOf(long.text)).toBe('no waiting');
    expect(chats(gpu)).toBe(3);
  });

  it('follows the `fallback` order, and skips a backend whose circuit is open', async () => {
    const [gpu, b, c] = [await upstream(), await upstream(), await upstream()];
    gpu.setFallback({ kind: 'error', status: 500, message: 'down' });
    c.setFallback({ kind: 'error', status: 500, message: 'also down' });
    b.setFallback(reply('from b'));
    const px = await proxy({
      backend: 'gpu',
      failover: { ...FAST, retries: 0 },
      plugins: [['backend-health', { failureThreshold: 1, cooldownMs: 60_000 }]],
      backends: { gpu: openaiBackend(gpu.url, { fallback: ['c', 'b'] }), b: openaiBackend(b.url), c: openaiBackend(c.url) },
    });
    const first = await ask(px.url);
    expect(first.headers.get('x-llm-proxy-backend')).toBe('b');
    expect([chats(gpu), chats(c), chats(b)]).toEqual([1, 1, 1]);
    // Both failures opened circuits: the next request goes straight to b.
    const second = await ask(px.url);
    expect(second.status).toBe(200);
    expect(second.headers.get('x-llm-proxy-backend')).toBe('b');
    expect([chats(gpu), chats(c), chats(b)]).toEqual([1, 1, 2]);
  });

  it('a stream that fails before its first event moves on; the client sees one clean stream', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('never'), cutAfter: 0 });
    spare.enqueue(reply('streamed by the spare'));
    const px = await proxy({ backend: 'gpu', failover: { ...FAST, retries: 0 }, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url, { stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-backend')).toBe('spare');
    const events = parseSSE(res.text).map((e) => e.event).filter((e) => e !== 'ping');
    expect(events[0]).toBe('message_start');
    expect(events.at(-1)).toBe('message_stop');
    expect(events).not.toContain('error');
    expect(streamedText(res.text)).toBe('streamed by the spare');
  });

  it('never fails over once the client got a byte: a stream cut midway ends with `event: error`', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('one two three four five six'), cutAfter: 3 });
    const px = await proxy({ backend: 'gpu', failover: FAST, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url, { stream: true });
    const events = parseSSE(res.text);
    expect(events[0]?.event).toBe('message_start');
    expect(events.at(-1)?.event).toBe('error');
    expect(events.map((e) => e.event)).not.toContain('message_stop');
    expect(chats(gpu)).toBe(1);
    expect(chats(spare)).toBe(0);
  });

  it('an overloaded backend (529) is retried, then the fallback answers', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'error', status: 529, message: 'Overloaded' });
    spare.enqueue(reply('not overloaded'));
    const px = await proxy({ backend: 'gpu', failover: FAST, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url);
    expect(textOf(res.text)).toBe('not overloaded');
    expect(chats(gpu)).toBe(3);
  });

  it('a stall midway through a stream ends it with `event: error` and is not resent', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'openai-stream', chunks: [...openaiTextChunks('started then').slice(0, 2), { delayMs: 5_000 }] });
    const px = await proxy({
      backend: 'gpu',
      failover: FAST,
      server: { idleTimeoutMs: 300 },
      backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) },
    });
    const res = await ask(px.url, { stream: true });
    const events = parseSSE(res.text);
    expect(events[0]?.event).toBe('message_start');
    expect(events.at(-1)?.event).toBe('error');
    expect(chats(spare)).toBe(0);
  });

  it('a timeout before the first byte moves on', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'hang' });
    spare.enqueue(reply('in time'));
    const px = await proxy({
      backend: 'gpu',
      failover: FAST,
      backends: { gpu: openaiBackend(gpu.url, { firstByteTimeoutMs: 300 }), spare: openaiBackend(spare.url) },
    });
    const res = await ask(px.url, { stream: true });
    expect(res.headers.get('x-llm-proxy-backend')).toBe('spare');
    expect(streamedText(res.text)).toBe('in time');
    // A timeout is not retried on the same backend: it already waited.
    expect(chats(gpu)).toBe(1);
  });

  it('a non-stream answer cut midway is retried: nothing had reached the client', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('partial answer here'), cutAfter: 2 });
    gpu.enqueue(reply('whole answer'));
    const px = await proxy({ backend: 'gpu', failover: FAST, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url);
    expect(res.status).toBe(200);
    expect(textOf(res.text)).toBe('whole answer');
  });

  it('an answer the fallback gave is not cached as the primary\'s', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.enqueue({ kind: 'error', status: 500, message: 'one bad moment' });
    spare.enqueue(reply('spare answer'));
    gpu.enqueue(reply('gpu answer'));
    const px = await proxy({ backend: 'gpu', failover: { ...FAST, retries: 0 }, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const body = { model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'the same question' }] };
    const first = await postMessages(px.url, body);
    expect(textOf(first.text)).toBe('spare answer');
    const second = await postMessages(px.url, body);
    expect(second.headers.get('x-llm-proxy-cache')).toBe('miss');
    expect(textOf(second.text)).toBe('gpu answer');
    const third = await postMessages(px.url, body);
    expect(third.headers.get('x-llm-proxy-cache')).toBe('hit');
    expect(textOf(third.text)).toBe('gpu answer');
  });

  it('gives up when every backend failed: the last error, naming its backend', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'error', status: 500, message: 'gpu broke' });
    spare.setFallback({ kind: 'error', status: 500, message: 'spare broke' });
    const px = await proxy({ backend: 'gpu', failover: { ...FAST, retries: 1 }, backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url);
    expect(res.status).toBe(502);
    expect(res.headers.get('x-llm-proxy-backend')).toBe('spare');
    const message = parseError(res.text).error.message;
    expect(message).toContain('spare broke');
    expect(message).toMatch(/failover tried first: gpu \(upstream returned HTTP 500.*gpu broke\), gpu \(.*\), spare \(.*spare broke\)/);
    expect([chats(gpu), chats(spare)]).toEqual([2, 2]);
  });
});

describe('failover: "explicit" (the default) and "off"', () => {
  it('explicit: one request, and the error says which backend answers now', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'error', status: 503, message: 'loading' });
    const px = await proxy({ backend: 'gpu', backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url);
    expect(res.status).toBe(502);
    expect(chats(gpu)).toBe(1);
    expect(chats(spare)).toBe(0);
    expect(parseError(res.text).error.message).toContain('`llm-proxy switch spare`');
  });

  it('off: one request, and no advice to switch', async () => {
    const gpu = await upstream();
    const spare = await upstream();
    gpu.setFallback({ kind: 'error', status: 503, message: 'loading' });
    const px = await proxy({ backend: 'gpu', failover: 'off', backends: { gpu: openaiBackend(gpu.url), spare: openaiBackend(spare.url) } });
    const res = await ask(px.url);
    expect(chats(gpu)).toBe(1);
    expect(parseError(res.text).error.message).not.toContain('llm-proxy switch');
  });
});

describe('failover: the config', () => {
  it('a `fallback` naming no backend stops the start, naming the field', async () => {
    await expect(
      startProxy({ backend: 'gpu', failover: 'auto', backends: { gpu: openaiBackend('http://127.0.0.1:9', { fallback: ['spaer'] }), spare: openaiBackend('http://127.0.0.1:9') } }),
    ).rejects.toThrow(/backends\.gpu\.fallback\[0\].*"spaer" is not a backend \(defined: gpu, spare\)/);
  });

  it('a misspelt mode is an error naming the values', async () => {
    await expect(startProxy({ backend: 'gpu', failover: 'automatic' as 'auto', backends: { gpu: openaiBackend('http://127.0.0.1:9') } })).rejects.toThrow(
      /failover.*"off", "explicit" or "auto"/,
    );
  });
});
