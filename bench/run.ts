// Proxy overhead: the same Claude Code request (the ~80 KB fixture, 24 tools) sent straight
// to a fake OpenAI-compatible upstream and through the proxy; reports the added latency.
// Run: npm run bench   (needs ../shared/fixtures, or pass a request body file as argv[2])
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createProxy } from '../src/proxy.js';
import { MAX_JSON_DEPTH } from '../src/http/body.js';
import { nestsDeeperThan } from '../src/json/raw-json.js';
import { fmt, percentile, requestBody, ROUNDS, time } from './measure.js';
import { toOpenAIRequest } from '../src/openai/request.js';
import type { MessagesRequest } from '../src/anthropic/types.js';
import { openaiTextChunks, startFakeUpstream } from '../tests/support/fake-upstream.js';

const raw = requestBody();
const body = JSON.parse(raw) as MessagesRequest;

const upstream = await startFakeUpstream({ format: 'openai' });
upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('pong', { pieces: 3 }) });
const proxy = await createProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${upstream.url}/v1`, model: 'qwen3-coder:30b' } }, logLevel: 'silent' });
await proxy.listen(0, '127.0.0.1');

const openaiBody = JSON.stringify(toOpenAIRequest(body, { model: 'qwen3-coder:30b', stream: true }));
const direct = await time(ROUNDS, async () => {
  const res = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: openaiBody });
  await res.text();
  upstream.reset();
});
const viaProxy = await time(ROUNDS, async () => {
  // no-store: every round is a miss that goes upstream, the realistic cost (bench/cache.ts measures hits).
  const res = await fetch(`${proxy.url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-llm-proxy-cache': 'no-store' },
    body: raw,
  });
  const text = await res.text();
  if (!text.includes('message_stop')) throw new Error(`bad answer: ${text.slice(0, 200)}`);
  upstream.reset();
});
const translate = await time(ROUNDS, async () => {
  JSON.stringify(toOpenAIRequest(JSON.parse(raw) as MessagesRequest, { model: 'm', stream: true }));
});

// The nesting-depth check on the raw bytes of the 76 KB one-shot request, before JSON.parse.
const pong = readFileSync(fileURLToPath(new URL('../../shared/fixtures/claude-code/pong-turn1.json', import.meta.url)));
const depthCheck = await time(ROUNDS, async () => {
  for (let i = 0; i < 100; i++) nestsDeeperThan(pong, MAX_JSON_DEPTH);
});

console.log(`request body: ${(raw.length / 1024).toFixed(1)} KB, ${body.tools?.length ?? 0} tools, ${ROUNDS} rounds`);
console.log(`direct to upstream   p50 ${fmt(percentile(direct, 50))}  p95 ${fmt(percentile(direct, 95))}`);
console.log(`through the proxy    p50 ${fmt(percentile(viaProxy, 50))}  p95 ${fmt(percentile(viaProxy, 95))}`);
console.log(`added by the proxy   p50 ${fmt(percentile(viaProxy, 50) - percentile(direct, 50))}  p95 ${fmt(percentile(viaProxy, 95) - percentile(direct, 95))}`);
console.log(`parse + translate + serialise alone  p50 ${fmt(percentile(translate, 50))}`);
console.log(`nesting-depth check (${(pong.length / 1024).toFixed(0)} KB pong-turn1)  p50 ${fmt(percentile(depthCheck, 50) / 100)}`);
const mem = process.memoryUsage();
console.log(`rss ${(mem.rss / 2 ** 20).toFixed(0)} MB, heap used ${(mem.heapUsed / 2 ** 20).toFixed(0)} MB`);

await proxy.close();
await upstream.close();
