// What the rate-limit advisor adds per request (issue 9 target: under 50 µs): reading a
// response's limit headers into a QuotaReport, recording it, and the check before a request
// with a token limit known, on the captured Claude Code request (parsed once, as the kernel has it).
// Run: node --import tsx bench/advisor.ts
import { performance } from 'node:perf_hooks';
import { parseRateLimitHeaders } from '../src/upstream/rate-limit-headers.js';
import { QuotaBook, exhausted, tokensLeft } from '../plugins/rate-limit-advisor/quota-book.js';
import { cerebrasRateLimitHeaders, defaultCerebrasRateLimit } from '../tests/support/cerebras-rate-limit.js';
import { estimateInputTokens } from '../src/anthropic/estimate-tokens.js';
import { requestBody } from './measure.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200_000);
const raw = requestBody();
const bytes = Buffer.byteLength(raw);
const maxTokens = 32_000;

// A real response's headers: the Cerebras quota ones among the usual others.
const headers: Record<string, string> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  date: new Date().toUTCString(),
  'x-request-id': 'req_0123456789abcdef',
  server: 'uvicorn',
  ...cerebrasRateLimitHeaders(defaultCerebrasRateLimit),
};

function perCallMicros(label: string, run: () => void): void {
  for (let i = 0; i < 10_000; i++) run();
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) run();
  const micros = ((performance.now() - started) * 1000) / ROUNDS;
  console.log(`${label.padEnd(58)} ${micros.toFixed(2)} µs`);
}

const book = new QuotaBook();
let sink = 0;
console.log(`request body ${(bytes / 1024).toFixed(1)} KB; ${ROUNDS} calls each`);
perCallMicros('parse the response headers (Cerebras quota + 5 others)', () => {
  sink += parseRateLimitHeaders('cloud', 200, headers)?.limits.length ?? 0;
});
perCallMicros('record the report', () => {
  book.record({ ...parseRateLimitHeaders('cloud', 200, headers)!, observedAt: Date.now() });
});
perCallMicros('check before a request (59000 tokens left: body bound skips)', () => {
  const quota = book.get('cloud');
  const left = tokensLeft(quota);
  if (exhausted(quota).length === 0 && left !== undefined && left >= maxTokens + Math.ceil(bytes / 4) + 1) sink++;
});
const body = JSON.parse(raw) as Parameters<typeof estimateInputTokens>[0];
perCallMicros('check close to the limit (the estimate walks the request)', () => {
  sink += estimateInputTokens(body);
});
if (sink < 0) console.log(sink);
