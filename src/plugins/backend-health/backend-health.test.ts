import { afterEach, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../tests/support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from '../../../tests/support/proxy.js';
import { Breaker } from './breaker.js';

type Health = { status: string; backends: Record<string, { status: string; circuit?: string; detail?: string; probeAgeSeconds?: number }> };

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

async function setup(health: Record<string, unknown>): Promise<{ upstream: FakeUpstream; px: TestProxy }> {
  const upstream = await startFakeUpstream({ format: 'openai' });
  opened.push(upstream);
  const px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url), spare: { type: 'scripted', responses: [{ text: 'spare' }] } }, plugins: [['backend-health', health]] });
  opened.push(px);
  return { upstream, px };
}

let asked = 0;
const ask = (url: string, content = `question ${++asked}`) => postMessages(url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content }] });
const health = async (url: string) => (await (await fetch(`${url}/health`)).json()) as Health;
const reply = (text: string) => ({ kind: 'openai-stream' as const, chunks: openaiTextChunks(text) });

describe('backend-health: a circuit per backend', () => {
  it('opens after the failures in a row, then answers at once (503, retry-after, no upstream call) while cache hits are still served', async () => {
    const { upstream, px } = await setup({ failureThreshold: 3, cooldownMs: 60_000 });
    upstream.enqueue(reply('remembered'));
    expect((await ask(px.url, 'cached question')).status).toBe(200);
    upstream.setFallback({ kind: 'error', status: 500, message: 'model crashed' });
    for (let i = 0; i < 3; i++) expect((await ask(px.url)).status).toBe(502);
    expect(upstream.chatRequests).toHaveLength(4);

    const refused = await ask(px.url);
    expect(refused.status).toBe(503);
    expect(upstream.chatRequests).toHaveLength(4);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(50);
    expect(refused.headers.get('x-should-retry')).toBe('true');
    expect(refused.headers.get('x-llm-proxy-backend')).toBe('gpu');
    const message = (JSON.parse(refused.text) as { error: { message: string } }).error.message;
    expect(message).toMatch(/backend "gpu" is failing, so the proxy is not sending it requests for \d+ s \(circuit open after 3 failures; the last: upstream returned HTTP 500.*model crashed/);
    // failure-advice still names what answers instead.
    expect(message).toContain('`llm-proxy switch spare`');

    const hit = await ask(px.url, 'cached question');
    expect(hit.status).toBe(200);
    expect(hit.headers.get('x-llm-proxy-cache')).toBe('hit');

    const report = await health(px.url);
    expect(report.status).toBe('down');
    expect(report.backends.gpu).toMatchObject({ status: 'down', circuit: 'open' });
    expect(report.backends.gpu?.detail).toMatch(/^circuit open after 3 failures, tried again in \d+ s; the last: /);
  });

  it('tries the backend again with one probe after the cooldown, and closes when it answers', async () => {
    const { upstream, px } = await setup({ failureThreshold: 2, cooldownMs: 200 });
    upstream.setFallback({ kind: 'error', status: 500, message: 'restarting' });
    for (let i = 0; i < 2; i++) expect((await ask(px.url)).status).toBe(502);
    expect((await ask(px.url)).status).toBe(503);
    upstream.setFallback(reply('back again'));
    const modelListsBefore = upstream.requests.filter((r) => r.path.endsWith('/models')).length;
    const deadline = Date.now() + 10_000;
    let answered: Awaited<ReturnType<typeof ask>> | undefined;
    while (Date.now() < deadline) {
      const res = await ask(px.url);
      if (res.status === 200) {
        answered = res;
        break;
      }
      expect(res.status).toBe(503);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(answered?.text).toContain('back again');
    // The trial was a probe (the model list), not a request the client made.
    expect(upstream.requests.filter((r) => r.path.endsWith('/models')).length).toBeGreaterThan(modelListsBefore);
    expect((await health(px.url)).backends.gpu?.circuit).toBeUndefined();
  });

  it('with periodic probes, /health reports the last probe and its age instead of probing', async () => {
    const { upstream, px } = await setup({ probeIntervalMs: 100 });
    await upstream.waitForRequests(3, { endpoint: 'models' });
    const report = await health(px.url);
    expect(report.backends.gpu).toMatchObject({ status: 'ok', probeAgeSeconds: expect.any(Number) });
    expect(report.backends.spare).toMatchObject({ status: 'ok', probeAgeSeconds: expect.any(Number) });
  });
});

describe('Breaker', () => {
  const settings = { failureThreshold: 0, errorRatio: 0.5, windowMs: 1_000, minRequests: 4, cooldownMs: 100 };

  it('opens on a share of failures over its window, once there were enough requests, and forgets what left the window', () => {
    const breaker = new Breaker(settings);
    breaker.success(0);
    breaker.failure('a', 10);
    breaker.success(20);
    expect(breaker.state).toBe('closed');
    breaker.failure('b', 30);
    expect(breaker.state).toBe('open');
    expect(breaker.waitMs(80)).toBe(50);
    expect(breaker.waitMs(200)).toBe(0);
    breaker.halfOpen();
    breaker.failure('still down', 200);
    expect(breaker.state).toBe('open');
    expect(breaker.waitMs(250)).toBe(50);

    const later = new Breaker(settings);
    later.failure('old', 0);
    later.failure('old', 1);
    for (const at of [2_000, 2_001, 2_002]) later.success(at);
    later.failure('new', 2_003);
    expect(later.state).toBe('closed');
  });
});
