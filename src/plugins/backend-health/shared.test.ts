// Two proxies in front of one backend, sharing a real Redis through the redis-cache plugin: the
// circuit one of them opened holds for the other, which never sent the backend a request.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from '../../../tests/support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from '../../../tests/support/proxy.js';
import { redisPresent, redisRequired, startRedis, type RedisServer } from '../../../tests/support/redis.js';

type Health = { backends: Record<string, { status: string; circuit?: string; detail?: string }> };

describe.skipIf(!redisPresent && !redisRequired)('backend-health shares its circuits through Redis', () => {
  let redis: RedisServer;
  let upstream: FakeUpstream;
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    upstream = await startFakeUpstream({ format: 'openai' });
    for (let i = 0; i < 2; i++) {
      proxies.push(
        await startProxy({
          backend: 'gpu',
          backends: { gpu: openaiBackend(upstream.url) },
          plugins: [['redis-cache', { url: redis.url }], ['backend-health', { failureThreshold: 2, cooldownMs: 60_000, syncIntervalMs: 50 }]],
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await upstream?.close();
    await redis?.stop();
  });

  it('a second proxy answers for the backend the first one found failing, without asking it', async () => {
    const [first, second] = proxies as [TestProxy, TestProxy];
    upstream.setFallback({ kind: 'error', status: 500, message: 'out of GPU memory' });
    for (const n of [1, 2]) {
      const res = await postMessages(first.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: `first ${n}` }] });
      expect(res.status).toBe(502);
    }
    expect(upstream.chatRequests).toHaveLength(2);

    const deadline = Date.now() + 10_000;
    let gpu: Health['backends'][string] | undefined;
    while (Date.now() < deadline) {
      gpu = ((await (await fetch(`${second.url}/health`)).json()) as Health).backends.gpu;
      if (gpu?.circuit === 'open') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(gpu).toMatchObject({ status: 'down', circuit: 'open' });
    // The upstream's own words stay with the proxy that heard them (they may quote a key).
    expect(gpu?.detail).toContain('reported by another proxy in front of this backend');
    expect(gpu?.detail).not.toContain('out of GPU memory');

    const refused = await postMessages(second.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'second' }] });
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.text).error.message).toMatch(/backend "gpu" is failing, so the proxy is not sending it requests/);
    expect(upstream.chatRequests).toHaveLength(2);
  });
});
