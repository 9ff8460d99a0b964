import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseRateLimitHeaders } from '../../src/plugin.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import { postMessages, startProxy, type TestProxy } from '../../tests/support/proxy.js';
import type { RateLimitAdvisorApi } from './index.js';
import { exhausted, QuotaBook, tokensLeft } from './quota-book.js';

type Health = { plugins: Record<string, { status: string; backends?: Record<string, string>; exhausted?: string[] }> };
const health = async (url: string) => (await (await fetch(`${url}/health`)).json()) as Health;
let asked = 0;
/** A question never asked before, so the response cache never answers it. */
const ask = (url: string, maxTokens = 100) =>
  postMessages(url, { model: 'claude-sonnet-4-5', max_tokens: maxTokens, messages: [{ role: 'user', content: `question ${++asked}` }] });

describe('rate-limit-advisor with a Cerebras-speaking server (per-minute and per-day headers)', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'cerebras' });
    px = await startProxy({
      backend: 'cloud',
      backends: {
        cloud: { type: 'cerebras', apiKey: 'csk-test-ADVISOR-0123456789', apiUrl: `${upstream.url}/v1`, model: 'gpt-oss-120b' },
        spare: { type: 'scripted', responses: [{ text: 'spare' }] },
      },
    });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  it('keeps the limits every response reports and shows them in /health', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('ok'), rateLimit: { remainingRequestsDay: 99, remainingTokensMinute: 50_000 } });
    expect((await ask(px.url)).status).toBe(200);
    const section = (await health(px.url)).plugins['rate-limits']!;
    expect(section.status).toBe('ok');
    expect(section.backends?.cloud).toMatch(/requests per day \(14400\): 99 left, resets at \S+Z \(in 9 h 11 min\)/);
    expect(section.backends?.cloud).toMatch(/tokens per minute \(60000\): 50000 left, resets at \S+Z \(in 1[12] s\)/);
    // The api has the same as data, for the plugins that read it.
    const quota = px.proxy.kernel.plugins.find((p) => p.name === 'rate-limit-advisor')?.api as RateLimitAdvisorApi;
    expect(quota.quota('cloud')?.limits).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ resource: 'requests', window: 'day', limit: 14400, remaining: 99, resetAt: expect.any(Number) }),
        expect.objectContaining({ resource: 'tokens', window: 'minute', limit: 60000, remaining: 50_000 }),
      ]),
    );
  });

  it('warns before a request the tokens left cannot cover, in the log and x-llm-proxy-warning', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('ok'), rateLimit: { remainingTokensMinute: 500, resetTokensMinute: 40 } });
    expect((await ask(px.url)).status).toBe(200);
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('still ok'), rateLimit: { remainingTokensMinute: 400, resetTokensMinute: 39 } });
    const res = await ask(px.url, 2000);
    expect(res.status).toBe(200);
    const warning = res.headers.get('x-llm-proxy-warning');
    expect(warning).toMatch(/^backend "cloud" has about 500 tokens left in its current window; this request may need up to \d+ \(input estimate plus max_tokens\)$/);
    expect(px.logs.some((line) => line.includes('has about 500 tokens left'))).toBe(true);
    // A request that fits gets no warning.
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('fits'), rateLimit: { remainingTokensMinute: 30_000 } });
    expect((await ask(px.url, 10)).headers.get('x-llm-proxy-warning')).toBeNull();
  });

  it('says which limit a 429 used up and when it resets; for a daily one, that waiting will not help today', async () => {
    upstream.enqueue({
      kind: 'error',
      status: 429,
      type: 'too_many_requests_error',
      code: 'request_quota_exceeded',
      message: 'Requests per day limit exceeded - too many requests sent.',
      rateLimit: { remainingRequestsDay: 0, resetRequestsDay: 30_000 },
    });
    const res = await ask(px.url);
    expect(res.status).toBe(429);
    // The true reset, hours away (Claude Code waits at most 60 s for a retry-after, so it stops at once), and no retry.
    expect(res.headers.get('retry-after')).toBe('30000');
    // An error names the backend too, as every answer does.
    expect(res.headers.get('x-llm-proxy-backend')).toBe('cloud');
    expect(res.headers.get('x-should-retry')).toBe('false');
    const message = (JSON.parse(res.text) as { error: { type: string; message: string } }).error;
    expect(message.type).toBe('rate_limit_error');
    expect(message.message).toMatch(/cloud's requests per day \(14400\) is used up; it resets at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in 8 h 20 min\): waiting will not help today/);
    const section = (await health(px.url)).plugins['rate-limits']!;
    expect(section.status).toBe('degraded');
    expect(section.exhausted).toEqual(['cloud']);
    // The next request is warned before it goes out.
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('lucky'), rateLimit: { remainingRequestsDay: 0, resetRequestsDay: 29_990 } });
    const next = await ask(px.url);
    expect(next.headers.get('x-llm-proxy-backend')).toBe('cloud');
    expect(next.headers.get('x-llm-proxy-warning')).toMatch(/^backend "cloud" has used up its requests per day \(14400\); it resets at .* \(in 8 h 20 min\)$/);
  });
});

describe('rate-limit-advisor with an OpenAI-compatible server (x-ratelimit-* with duration resets)', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${upstream.url}/v1`, model: 'm' } } });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });

  it('names the per-minute token limit a 429 used up and its reset', async () => {
    upstream.enqueue({
      kind: 'error',
      status: 429,
      message: 'Rate limit reached for tokens per min.',
      headers: { 'x-ratelimit-limit-tokens': '30000', 'x-ratelimit-remaining-tokens': '0', 'x-ratelimit-reset-tokens': '31s', 'retry-after': '31' },
    });
    const res = await ask(px.url);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('31');
    expect(JSON.parse(res.text).error.message).toMatch(/gpu's tokens per minute \(30000\) is used up; it resets at .* \(in 3[01] s\)/);
    expect(JSON.parse(res.text).error.message).not.toContain('waiting will not help');
  });
});

describe('parseRateLimitHeaders and the quota book', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');

  it("reads Anthropic's headers (RFC 3339 resets), retry-after-ms, and nothing from unrelated headers", () => {
    const report = parseRateLimitHeaders('claude', 429, {
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-12-01T12:00:20Z',
      'anthropic-ratelimit-input-tokens-remaining': '12000',
      'retry-after-ms': '1500',
      'content-type': 'application/json',
    }, now);
    expect(report).toEqual({
      backend: 'claude',
      status: 429,
      limits: [
        { resource: 'requests', window: 'minute', limit: 50, remaining: 0, resetAt: now + 20_000 },
        { resource: 'input_tokens', window: 'minute', remaining: 12000 },
      ],
      retryAfterSeconds: 2,
      observedAt: now,
    });
    expect(parseRateLimitHeaders('x', 200, { 'content-type': 'text/event-stream' }, now)).toBeUndefined();
  });

  it('keeps the latest value of each limit, counts a limit past its reset as refilled, and finds what is used up', () => {
    const book = new QuotaBook();
    book.record({ backend: 'a', status: 200, observedAt: now, limits: [{ resource: 'tokens', window: 'minute', limit: 1000, remaining: 0, resetAt: now + 10_000 }] });
    book.record({ backend: 'a', status: 200, observedAt: now + 1, limits: [{ resource: 'requests', window: 'day', remaining: 5 }] });
    // An older report does not overwrite a newer one.
    book.record({ backend: 'a', status: 200, observedAt: now - 5, limits: [{ resource: 'requests', window: 'day', remaining: 9 }] });
    const during = book.get('a', now + 5_000);
    expect(exhausted(during, now + 5_000).map((l) => l.resource)).toEqual(['tokens']);
    expect(tokensLeft(during)).toBe(0);
    expect(during?.limits.find((l) => l.resource === 'requests')?.remaining).toBe(5);
    const after = book.get('a', now + 10_001);
    expect(exhausted(after, now + 10_001)).toEqual([]);
    expect(tokensLeft(after)).toBe(1000);
  });
});
