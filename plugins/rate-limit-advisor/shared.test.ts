// Two proxies in front of the same backend, sharing one real Redis (through the redis-cache
// plugin, or the advisor's own `redis` option): the daily quota one of them saw used up is
// known to the other, which never asked.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import { postMessages, startProxy, type TestProxy } from '../../tests/support/proxy.js';
import { redisPresent, redisRequired, startRedis, type RedisServer } from '../../tests/support/redis.js';

type Health = { plugins: Record<string, { status: string; backends?: Record<string, string>; exhausted?: string[] }> };

const setups = {
  "redis-cache's connection": (url: string) => [['redis-cache', { url }], ['rate-limit-advisor', { syncIntervalMs: 50 }]] as const,
  "the advisor's own `redis` option": (url: string) => [['rate-limit-advisor', { syncIntervalMs: 50, redis: { url } }]] as const,
};

describe.skipIf(!redisPresent && !redisRequired).each(Object.entries(setups))('rate-limit-advisor shares what it learns through Redis (%s)', (_label, plugins) => {
  let redis: RedisServer;
  let upstream: FakeUpstream;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startFakeUpstream({ format: 'cerebras' });
    for (let i = 0; i < 2; i++) {
      proxies.push(
        await startProxy({
          backend: 'cloud',
          backends: { cloud: { type: 'cerebras', apiKey: 'csk-test-SHARED-0123456789', apiUrl: `${upstream.url}/v1`, model: 'gpt-oss-120b' } },
          plugins: [...plugins(redis.url)],
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await upstream?.close();
    await redis?.stop();
    proxies.length = 0;
  });

  it('a second proxy sees the used-up daily limit the first one was told of, and warns before its own request', async () => {
    const [first, second] = proxies as [TestProxy, TestProxy];
    upstream.enqueue({ kind: 'error', status: 429, message: 'Requests per day limit exceeded.', rateLimit: { remainingRequestsDay: 0, resetRequestsDay: 30_000 } });
    const failed = await postMessages(first.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'first proxy' }] });
    expect(failed.status).toBe(429);
    expect(upstream.chatRequests).toHaveLength(1);

    const deadline = Date.now() + 10_000;
    let section: Health['plugins'][string] | undefined;
    while (Date.now() < deadline) {
      section = ((await (await fetch(`${second.url}/health`)).json()) as Health).plugins['rate-limits'];
      if (section?.exhausted?.includes('cloud')) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(section?.status).toBe('degraded');
    expect(section?.backends?.cloud).toMatch(/requests per day \(14400\): 0 left, resets at \S+Z \(in 8 h 20 min\)/);

    // It answers anyway (a last request let through): the warning came before it went out.
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('let through'), rateLimit: { remainingRequestsDay: 0, resetRequestsDay: 29_990 } });
    const warned = await postMessages(second.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'second proxy' }] });
    expect(warned.status).toBe(200);
    expect(warned.headers.get('x-llm-proxy-warning')).toMatch(/^backend "cloud" has used up its requests per day \(14400\)/);
  });
});
