import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCache } from './index.js';
import { resolveRedisSettings } from './options.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import { openaiBackend, startProxy, type TestProxy } from '../../tests/support/proxy.js';
import { ask, cachePlugins, cacheReport, health, post, sleep, slowestMiss, timedPosts, until } from '../../tests/support/cache.js';
import { redisPresent, redisRequired, startRedis, startRedisCluster, type RedisCluster, type RedisServer } from '../../tests/support/redis.js';

const answer = (text: string) => ({ kind: 'openai-stream' as const, chunks: openaiTextChunks(text, { usage: { prompt_tokens: 40, completion_tokens: 8 } }) });

async function proxyWith(upstream: FakeUpstream, redis: Parameters<typeof redisCache>[0]): Promise<TestProxy> {
  return startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: cachePlugins([redisCache(redis)]), logLevel: 'info' });
}

describe.skipIf(!redisPresent && !redisRequired)('the Redis cache (L2) on one Redis', () => {
  let redis: RedisServer;
  let client: Redis;
  const upstreams: FakeUpstream[] = [];
  const proxies: TestProxy[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
  });
  afterAll(async () => {
    await Promise.all(proxies.map((p) => p.close()));
    await Promise.all(upstreams.map((u) => u.close()));
    client?.disconnect();
    await redis?.stop();
  });

  async function pair(options: Parameters<typeof redisCache>[0] = {}) {
    const [a, b] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
    upstreams.push(a, b);
    const pxA = await proxyWith(a, { url: redis.url, ...options });
    const pxB = await proxyWith(b, { url: redis.url, ...options });
    proxies.push(pxA, pxB);
    return { a, b, pxA, pxB };
  }

  it('answers on a second proxy from Redis without calling its upstream, then from its own memory', async () => {
    const { a, b, pxA, pxB } = await pair();
    a.enqueue(answer('shared through redis'));
    expect((await post(pxA.url, ask('redis shared'))).cache).toBe('miss');
    await until(async () => (await client.dbsize()) > 0, 'the answer in Redis');
    const fromRedis = await pxB.client.messages.stream(ask('redis shared')).finalMessage();
    expect(fromRedis.content).toEqual([{ type: 'text', text: 'shared through redis' }]);
    expect(fromRedis.usage).toMatchObject({ input_tokens: 40, output_tokens: 8 });
    const again = await post(pxB.url, ask('redis shared'));
    expect(again).toMatchObject({ cache: 'hit', tier: 'memory' });
    expect(b.chatRequests).toHaveLength(0);
    await sleep(50);
    expect((await cacheReport(pxB.url)).hits).toEqual({ redis: 1, memory: 1 });
    const logged = pxB.logs.filter((line) => line.includes('"msg":"messages"')).map((line) => JSON.parse(line) as { cache: string; tier: string });
    expect(logged.map(({ cache, tier }) => ({ cache, tier }))).toEqual([{ cache: 'hit', tier: 'redis' }, { cache: 'hit', tier: 'memory' }]);
    const section = (await health(pxB.url)).plugins['redis-cache'];
    expect(section).toMatchObject({ status: 'ok', redis: 'up', mode: 'single' });
  });

  it('compresses a large answer and reads it back; skips one over maxEntryBytes', async () => {
    const { a, b, pxA, pxB } = await pair({ compressAbove: 1024, maxEntryBytes: '512kb' });
    const big = 'cache me '.repeat(20_000);
    a.enqueue(answer(big));
    await post(pxA.url, ask('redis big answer'));
    await until(async () => (await client.dbsize()) > 1, 'the big answer in Redis');
    const keys = await client.keys('llmp:v2:*');
    const sizes = await Promise.all(keys.map(async (key) => ({ key, size: await client.strlen(key), marker: await client.getrange(key, 0, 0) })));
    const compressed = sizes.filter((entry) => entry.marker === 'b');
    expect(compressed).toHaveLength(1);
    expect(compressed[0]!.size).toBeLessThan(big.length / 10);
    const read = await pxB.client.messages.create(ask('redis big answer'));
    expect(read.content).toEqual([{ type: 'text', text: big }]);
    expect(b.chatRequests).toHaveLength(0);

    a.enqueue(answer('x'.repeat(600 * 1024)));
    await post(pxA.url, ask('redis too big'));
    await until(async () => (await health(pxA.url)).plugins['redis-cache']?.tooLarge === 1, 'tooLarge');
    b.enqueue(answer('fresh'));
    expect((await post(pxB.url, ask('redis too big'))).cache).toBe('miss');
  });

  it('goes on uncached while Redis is down (one warning, /health says down) and resumes once it is back', async () => {
    const own = await startRedis();
    const upstream = await startFakeUpstream();
    upstreams.push(upstream);
    const px = await proxyWith(upstream, { url: own.url });
    proxies.push(px);
    try {
      upstream.setFallback(answer('answered anyway'));
      expect((await post(px.url, ask('before the outage'))).cache).toBe('miss');
      await own.kill();
      expect(slowestMiss(await timedPosts(px.url, ['outage one', 'outage two', 'outage three']))).toBeLessThan(1000);
      const report = await health(px.url);
      expect(report.status).toBe('degraded');
      expect(report.plugins['redis-cache']).toMatchObject({ status: 'down', redis: 'down' });
      expect(px.logs.filter((line) => line.includes('is unavailable'))).toHaveLength(1);
      expect(px.logs.filter((line) => line.includes('is unavailable'))[0]).toContain('"level":"warn"');

      await own.restart();
      await until(async () => (await health(px.url)).plugins['redis-cache']?.status === 'ok', 'Redis to be back');
      expect(px.logs.filter((line) => line.includes('answers again'))).toHaveLength(1);
      expect((await post(px.url, ask('after the outage'))).cache).toBe('miss');
      const direct = new Redis(own.url);
      await until(async () => (await direct.dbsize()) === 1, 'the new answer in Redis');
      direct.disconnect();
      expect(px.logs.filter((line) => line.includes('is unavailable'))).toHaveLength(1);
    } finally {
      await own.stop();
    }
  });

  it('starts at once when Redis is not there, and serves uncached', async () => {
    const gone = await startRedis();
    await gone.stop();
    const upstream = await startFakeUpstream();
    upstreams.push(upstream);
    const started = Date.now();
    const px = await proxyWith(upstream, { url: gone.url });
    proxies.push(px);
    expect(Date.now() - started).toBeLessThan(1500);
    upstream.setFallback(answer('no redis needed'));
    expect((await post(px.url, ask('redis never there'))).status).toBe(200);
    expect((await post(px.url, ask('redis never there'))).tier).toBe('memory');
    expect((await health(px.url)).plugins['redis-cache']).toMatchObject({ status: 'down', redis: 'down' });
    expect(px.logs.filter((line) => line.includes('is unavailable'))).toHaveLength(1);
  });

  it('does not let a Redis that stops answering slow requests beyond operationTimeoutMs', async () => {
    const own = await startRedis();
    const upstream = await startFakeUpstream();
    upstreams.push(upstream);
    const px = await proxyWith(upstream, { url: own.url, operationTimeoutMs: 100 });
    proxies.push(px);
    try {
      upstream.setFallback(answer('not slowed'));
      await post(px.url, ask('warm up'));
      own.pause();
      expect(slowestMiss(await timedPosts(px.url, ['slow one', 'slow two', 'slow three']))).toBeLessThan(400);
      expect(px.logs.filter((line) => line.includes('is unavailable'))).toHaveLength(1);
      own.resume();
      await sleep(1100);
      // A new prompt: the earlier ones are in this proxy's memory, which answers before Redis is asked.
      await post(px.url, ask('after the pause'));
      await until(async () => px.logs.some((line) => line.includes('answers again')), 'recovery');
    } finally {
      own.resume();
      await own.stop();
    }
  });
});

describe.skipIf(!redisPresent && !redisRequired)('the Redis cache on a Redis Cluster', () => {
  let cluster: RedisCluster;
  beforeAll(async () => {
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('stores and reads answers whose keys live in different slots, from two proxies', async () => {
    const [a, b] = await Promise.all([startFakeUpstream(), startFakeUpstream()]);
    const pxA = await proxyWith(a, { cluster: { nodes: cluster.nodes.map((n) => `${n.host}:${n.port}`) } });
    const pxB = await proxyWith(b, { cluster: { nodes: [cluster.nodes[0]!] } });
    try {
      a.setFallback(answer('from the cluster'));
      const prompts = Array.from({ length: 12 }, (_, i) => `cluster prompt ${i}`);
      for (const prompt of prompts) expect((await post(pxA.url, ask(prompt))).cache).toBe('miss');
      const nodes = cluster.nodes.map((n) => new Redis(n.port, n.host));
      await until(async () => (await Promise.all(nodes.map((n) => n.dbsize()))).reduce((x, y) => x + y, 0) === prompts.length, 'every answer stored');
      const perNode = await Promise.all(nodes.map((n) => n.dbsize()));
      for (const node of nodes) node.disconnect();
      expect(perNode.filter((count) => count > 0).length).toBeGreaterThan(1);
      for (const prompt of prompts) expect((await post(pxB.url, ask(prompt))).cache).toBe('hit');
      expect(b.chatRequests).toHaveLength(0);
      expect((await health(pxB.url)).plugins['redis-cache']).toMatchObject({ status: 'ok', mode: 'cluster' });
    } finally {
      await Promise.all([pxA.close(), pxB.close()]);
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('redis-cache options', () => {
  it('reads REDIS_URL, then REDIS_HOST / REDIS_PORT / REDIS_PASSWORD', () => {
    expect(resolveRedisSettings({}, { REDIS_URL: 'rediss://cache.example:6380/2' })).toMatchObject({ url: 'rediss://cache.example:6380/2', mode: 'single' });
    expect(resolveRedisSettings({}, { REDIS_HOST: 'redis.local', REDIS_PORT: '6390', REDIS_PASSWORD: 'pw' })).toMatchObject({
      url: 'redis://redis.local:6390',
      password: 'pw',
    });
    expect(resolveRedisSettings({}, {})).toMatchObject({ url: 'redis://127.0.0.1:6379', ttlSeconds: 86_400, operationTimeoutMs: 150 });
    expect(resolveRedisSettings({ url: 'redis://h:1', tls: true, compressAbove: '4kb' }, {})).toMatchObject({ tls: {}, compressAbove: 4096 });
  });

  it('names the field of an invalid option', () => {
    expect(() => resolveRedisSettings({ url: 'http://nope' }, {})).toThrow(/plugins\.redis-cache\.url/);
    expect(() => resolveRedisSettings({ cluster: { nodes: ['nohost'] } }, {})).toThrow(/plugins\.redis-cache\.cluster\.nodes\[0\]/);
    expect(() => resolveRedisSettings({ ttl: 5 } as never, {})).toThrow(/plugins\.redis-cache\.ttl/);
    expect(() => resolveRedisSettings({ compression: 'zip' } as never, {})).toThrow(/plugins\.redis-cache\.compression/);
  });
});
