import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboard, type RequestRow } from './index.js';
import { cachePlugins, until } from '../../tests/support/cache.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from '../../tests/support/proxy.js';

const CEREBRAS_KEY = 'csk-dash-SECRET-0123456789';

interface State {
  readOnly: boolean;
  active: string;
  backends: Array<{ name: string; type: string; health?: { status: string }; quota?: { limits: Array<{ resource: string; window: string; limit?: number; remaining?: number; resetAt?: number }>; lastStatus: number } }>;
  cache?: { tiers: Record<string, { entries?: number; bytes?: number }>; savings: { hits: Record<string, number>; misses: number; savedUsd: number; tokensServed: { input: number; output: number } } };
  requests: RequestRow[];
  timeline: Array<{ at: number; backends: Record<string, { requests: number; errors: number; p50Ms?: number }>; hits: Record<string, number>; misses: number }>;
}

const ask = (text: string) => ({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user' as const, content: text }] });

describe('dashboard: the data and the actions', () => {
  let gpu: FakeUpstream;
  let cloud: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    [gpu, cloud] = await Promise.all([startFakeUpstream({ format: 'openai' }), startFakeUpstream({ format: 'cerebras' })]);
    px = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: openaiBackend(gpu.url),
        cloud: { type: 'cerebras', apiKey: CEREBRAS_KEY, apiUrl: `${cloud.url}/v1`, model: 'gpt-oss-120b' },
      },
      plugins: cachePlugins([dashboard()]),
    });
  });
  afterAll(async () => {
    await px?.close();
    await Promise.all([gpu?.close(), cloud?.close()]);
  });

  const state = async (headers: Record<string, string> = {}) => (await (await fetch(`${px.url}/ui/api/state`, { headers })).json()) as State;
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${px.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('shows each backend, the quota and reset a 429 reported, the cache hits and savings, and the request rows', async () => {
    gpu.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('from the gpu', { usage: { prompt_tokens: 120, completion_tokens: 8 } }) });
    expect((await postMessages(px.url, ask('first question'))).status).toBe(200);
    expect((await postMessages(px.url, ask('first question'))).status).toBe(200);
    cloud.enqueue({
      kind: 'error',
      status: 429,
      message: `Tokens per minute limit exceeded for key ${CEREBRAS_KEY}`,
      code: 'token_quota_exceeded',
      rateLimit: { remainingTokensMinute: 0, resetTokensMinute: 42 },
    });
    const refused = await postMessages(px.url, { ...ask('to the cloud'), model: 'cloud/gpt-oss-120b' });
    expect(refused.status).toBe(429);

    await until(async () => (await state()).requests.length >= 3, 'three request rows');
    const seen = await state();
    expect(seen.readOnly).toBe(false);
    expect(seen.active).toBe('gpu');
    expect(seen.backends.map((b) => [b.name, b.type])).toEqual([
      ['gpu', 'openai'],
      ['cloud', 'cerebras'],
    ]);
    const tokens = seen.backends.find((b) => b.name === 'cloud')?.quota?.limits.find((l) => l.resource === 'tokens' && l.window === 'minute');
    expect(tokens).toMatchObject({ remaining: 0, limit: 60000 });
    expect(tokens!.resetAt! - Date.now()).toBeGreaterThan(30_000);
    expect(tokens!.resetAt! - Date.now()).toBeLessThanOrEqual(42_000);
    expect(seen.cache?.savings.hits.memory).toBe(1);
    expect(seen.cache?.savings.savedUsd).toBeGreaterThan(0);
    expect(seen.cache?.tiers.memory?.entries).toBe(1);

    const [failed, hit, miss] = seen.requests;
    expect(miss).toMatchObject({ backend: 'gpu', cache: 'miss', status: 200, inputTokens: 120, outputTokens: 8 });
    expect(hit).toMatchObject({ cache: 'hit', tier: 'memory', status: 200 });
    expect(failed).toMatchObject({ backend: 'cloud', status: 429 });
    expect(failed?.error).toContain('Tokens per minute limit exceeded');
    const minute = seen.timeline.at(-1);
    // The cloud's request missed the cache too, before its upstream refused it.
    expect(minute?.misses).toBe(2);
    expect(minute?.hits.memory).toBe(1);
    expect(minute?.backends.gpu?.requests).toBe(1);
    expect(minute?.backends.cloud).toMatchObject({ requests: 1, errors: 1 });
    // The key the upstream quoted back is masked like everywhere else.
    expect(JSON.stringify(seen)).not.toContain(CEREBRAS_KEY);
  });

  it('streams the same state as server-sent events', async () => {
    const controller = new AbortController();
    const res = await fetch(`${px.url}/ui/api/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text.startsWith('event: state\ndata: ')).toBe(true);
    expect((JSON.parse(text.slice('event: state\ndata: '.length, text.indexOf('\n\n'))) as State).active).toBe('gpu');
  });

  it('switches the backend for the next request, and clears the cache', async () => {
    cloud.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('from the cloud') });
    const switched = await post('/ui/api/switch', { backend: 'cloud' }, { origin: px.url });
    expect(switched.status).toBe(200);
    expect(await switched.json()).toEqual({ active: 'cloud', previous: 'gpu' });
    const before = cloud.chatRequests.length;
    expect((await postMessages(px.url, ask('after the switch'))).status).toBe(200);
    expect(cloud.chatRequests.length).toBe(before + 1);
    expect((await state()).active).toBe('cloud');

    const cleared = await post('/ui/api/cache/clear', {});
    expect(await cleared.json()).toEqual({ cleared: ['memory'] });
    expect((await state()).cache?.tiers.memory?.entries).toBe(0);
    expect((await post('/ui/api/switch', { backend: 'gpu' })).status).toBe(200);
  });

  it('refuses an action from another site, one without a JSON body, and an unknown backend', async () => {
    const foreign = await post('/ui/api/switch', { backend: 'cloud' }, { origin: 'http://evil.example' });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: { message: string } }).error.message).toContain('from another site (http://evil.example) is refused');
    const crossSite = await post('/ui/api/cache/clear', {}, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const form = await fetch(`${px.url}/ui/api/switch`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'backend=cloud' });
    expect(form.status).toBe(415);
    const unknown = await post('/ui/api/switch', { backend: 'nope' });
    expect(unknown.status).toBe(404);
    // No action on a GET.
    expect([404, 405]).toContain((await fetch(`${px.url}/ui/api/switch?backend=cloud`)).status);
    expect((await state()).active).toBe('gpu');
  });
});
