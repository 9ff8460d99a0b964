// Cache latency: the same Claude Code request (the ~80 KB fixture) answered by the upstream
// (a miss: key, tee, store), from memory (L1 hit) and from Redis (a private redis-server,
// memory tier off), next to the proxy with the cache off.
// Run: node --import tsx bench/cache.ts   (needs ../shared/fixtures and redis-server)
import { redisCache } from '../plugins/redis-cache/index.js';
import { createProxy } from '../src/proxy.js';
import type { Plugin } from '../src/kernel/types.js';
import { cache } from '../src/plugins/cache/index.js';
import { memoryCache } from '../src/plugins/memory-cache/index.js';
import { openaiTextChunks, startFakeUpstream } from '../tests/support/fake-upstream.js';
import { startRedis } from '../tests/support/redis.js';
import { fmt, percentile, requestBody, ROUNDS, time } from './measure.js';

const raw = requestBody();

const upstream = await startFakeUpstream({ format: 'openai' });
upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('The command printed hello-from-tool. '.repeat(20), { pieces: 20 }) });
const redis = await startRedis();

async function measure(label: string, plugins: Plugin[], headers: Record<string, string> = {}): Promise<void> {
  const proxy = await createProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${upstream.url}/v1`, model: 'm' } }, plugins, logLevel: 'silent' });
  await proxy.listen(0, '127.0.0.1');
  const once = async () => {
    const res = await fetch(`${proxy.url}/v1/messages?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: raw });
    const text = await res.text();
    if (!text.includes('message_stop')) throw new Error(`bad answer: ${text.slice(0, 200)}`);
    upstream.reset();
  };
  const times = await time(ROUNDS, once);
  console.log(`${label.padEnd(34)} p50 ${fmt(percentile(times, 50))}  p95 ${fmt(percentile(times, 95))}`);
  await proxy.close();
}

console.log(`request body ${(raw.length / 1024).toFixed(1)} KB, streamed answer, ${ROUNDS} rounds`);
await measure('cache off (upstream every time)', [cache({ enabled: false })]);
await measure('miss (x-llm-proxy-cache: no-cache)', [cache(), memoryCache()], { 'x-llm-proxy-cache': 'no-cache' });
await measure('memory hit', [cache(), memoryCache()]);
await measure('redis hit (memory tier off)', [cache(), memoryCache({ enabled: false }), redisCache({ url: redis.url })]);

await redis.stop();
await upstream.close();
