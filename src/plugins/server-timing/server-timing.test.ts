import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../tests/support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from '../../../tests/support/proxy.js';

/** `proxy;dur=1.23, upstream;dur=250.10` as numbers by name, and the descriptions. */
function serverTiming(header: string | null): Record<string, { dur?: number; desc?: string }> {
  const metrics: Record<string, { dur?: number; desc?: string }> = {};
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    const metric: { dur?: number; desc?: string } = {};
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key === 'dur') metric.dur = Number(value);
      if (key === 'desc') metric.desc = value;
    }
    metrics[name] = metric;
  }
  return metrics;
}

describe('server-timing: what the proxy costs, on every answer', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) } });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });

  const body = (content: string, stream = false) => ({ model: 'claude-sonnet-4-5', max_tokens: 20, stream, messages: [{ role: 'user', content }] });
  const slow = (text: string) => ({ kind: 'delay' as const, ms: 150, then: { kind: 'openai-stream' as const, chunks: openaiTextChunks(text) } });

  it('a miss: the upstream wait and the proxy time apart; x-llm-proxy-overhead-ms is the proxy time', async () => {
    upstream.enqueue(slow('timed'));
    const res = await postMessages(px.url, body('timed question'));
    expect(res.status).toBe(200);
    const timing = serverTiming(res.headers.get('server-timing'));
    // The upstream held its answer back 150 ms: that is upstream time, not the proxy's.
    expect(timing.upstream?.dur).toBeGreaterThanOrEqual(150);
    expect(timing.proxy?.dur).toBeGreaterThanOrEqual(0);
    expect(Number(res.headers.get('x-llm-proxy-overhead-ms'))).toBe(timing.proxy?.dur);
    expect(timing.cache).toBeUndefined();
  });

  it('a stream: the headers carry the wait until its first event', async () => {
    upstream.enqueue(slow('streamed and timed'));
    const res = await postMessages(px.url, body('streamed question', true));
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const timing = serverTiming(res.headers.get('server-timing'));
    expect(timing.upstream?.dur).toBeGreaterThanOrEqual(150);
    expect(Number(res.headers.get('x-llm-proxy-overhead-ms'))).toBeGreaterThanOrEqual(0);
  });

  it('a cache hit: `cache;desc=hit` and no upstream', async () => {
    upstream.enqueue(slow('cached'));
    await postMessages(px.url, body('asked twice'));
    const hit = await postMessages(px.url, body('asked twice'));
    expect(hit.headers.get('x-llm-proxy-cache')).toBe('hit');
    const timing = serverTiming(hit.headers.get('server-timing'));
    expect(timing.cache?.desc).toBe('hit');
    expect(timing.upstream).toBeUndefined();
    expect(timing.proxy?.dur).toBeGreaterThanOrEqual(0);
  });

  it('an error answer too', async () => {
    upstream.enqueue({ kind: 'error', status: 400, message: 'bad request' });
    const res = await postMessages(px.url, body('refused question'));
    expect(res.status).toBe(400);
    const timing = serverTiming(res.headers.get('server-timing'));
    expect(timing.upstream?.dur).toBeGreaterThanOrEqual(0);
    expect(res.headers.get('x-llm-proxy-overhead-ms')).toMatch(/^\d+\.\d\d$/);
  });
});
