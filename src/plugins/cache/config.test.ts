import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config/load.js';
import { pluginResolver } from '../builtin.js';
import { createProxy, type Proxy } from '../../proxy.js';
import { startFakeEmbeddings, type FakeEmbeddings } from '../../../tests/support/fake-embeddings.js';
import { redisPresent, redisRequired, startRedis, type RedisServer } from '../../../tests/support/redis.js';

// User story 2: a config file names the Redis and semantic caches by their first-party names.
describe.skipIf(!redisPresent && !redisRequired)('caches declared in a config file', () => {
  let redis: RedisServer;
  let embeddings: FakeEmbeddings;
  let dir: string;
  let proxy: Proxy;
  beforeAll(async () => {
    redis = await startRedis();
    embeddings = await startFakeEmbeddings();
    dir = mkdtempSync(join(tmpdir(), 'llm-proxy-cache-config-'));
    writeFileSync(
      join(dir, '.llmrc.json'),
      JSON.stringify({
        backend: 'gpu',
        // A scripted backend is cached only when asked.
        backends: { gpu: { type: 'scripted', responses: [{ text: 'first answer' }, { text: 'second answer' }], cache: true } },
        plugins: [
          ['redis-cache', { url: '${TEST_REDIS_URL}' }],
          ['semantic-cache', { url: '${TEST_REDIS_URL}', embedder: { type: 'openai', url: `${embeddings.url}/v1`, model: 'test-embed' } }],
        ],
        logLevel: 'silent',
      }),
    );
    const config = await loadConfig({ cwd: dir, home: dir, env: { TEST_REDIS_URL: redis.url }, pluginResolver, onWarning: () => undefined });
    proxy = await createProxy(config);
    await proxy.listen(0, '127.0.0.1');
  });
  afterAll(async () => {
    await proxy?.close();
    await embeddings?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = (text: string) =>
    fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: text }] }),
    });

  it('loads both tiers by name and answers the repeat from cache, saying so', async () => {
    const first = await ask('explain what the build script does');
    expect(first.headers.get('x-llm-proxy-cache')).toBe('miss');
    expect(((await first.json()) as { content: Array<{ text: string }> }).content[0]!.text).toBe('first answer');
    const again = await ask('explain what the build script does');
    expect(again.headers.get('x-llm-proxy-cache')).toBe('hit');
    expect(((await again.json()) as { content: Array<{ text: string }> }).content[0]!.text).toBe('first answer');
    const health = (await (await fetch(`${proxy.url}/health`)).json()) as { plugins: Record<string, { status: string }> };
    expect(health.plugins['redis-cache']?.status).toBe('ok');
    expect(Object.keys(health.plugins)).toEqual(expect.arrayContaining(['cache', 'redis-cache']));
    expect(embeddings.requests.length).toBeGreaterThan(0);
  });
});
