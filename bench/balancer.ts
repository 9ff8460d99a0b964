// What the endpoint balancer, failover and the thinking-signature pass add per request (issue 9
// target: under 50 µs): picking an endpoint of three (least in flight; a session's by its
// affinity ring), making a request's retry policy, and the signature pass over the captured
// Claude Code request (parsed once, as the kernel has it) on its way to an Anthropic-format backend.
// Run: node --import tsx bench/balancer.ts
import { performance } from 'node:perf_hooks';
import type { MessagesRequest } from '../src/anthropic/types.js';
import { forSigner, signerOf } from '../src/anthropic/thinking-signatures.js';
import { BalancedBackend } from '../src/backends/endpoints/balanced-backend.js';
import { Endpoint } from '../src/backends/endpoints/endpoint.js';
import type { Backend, BackendRegistry } from '../src/kernel/types.js';
import { Attempts, DEFAULT_TUNING } from '../src/plugins/failover/policy.js';
import { requestBody } from './measure.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200_000);

function perCallMicros(label: string, run: () => void): void {
  for (let i = 0; i < 10_000; i++) run();
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) run();
  const micros = ((performance.now() - started) * 1000) / ROUNDS;
  console.log(`${label.padEnd(62)} ${micros.toFixed(2)} µs`);
}

const backend = (name: string): Backend => ({
  name,
  type: 'openai',
  resolveModel: (model) => model,
  invoke: () => Promise.reject(new Error('not called')),
  health: () => Promise.resolve({ status: 'ok' }),
  describe: () => ({}),
});
const endpoints = ['http://gpu-a:8000/v1', 'http://gpu-b:8000/v1', 'http://gpu-c:8000/v1'].map((url) => new Endpoint(url, backend('gpu'), 5_000));
endpoints.forEach((endpoint, i) => (endpoint.inFlight = i + 3));
const balanced = new BalancedBackend('gpu', endpoints);
const sessions = Array.from({ length: 64 }, (_, i) => `0d5c6a9e-3b1f-4c2e-9a7d-${String(i).padStart(12, '0')}`);

let sink = 0;
console.log(`${ROUNDS} calls each`);
perCallMicros('pick an endpoint of three, no session (least in flight)', () => {
  sink += balanced.pick(undefined)?.inFlight ?? 0;
});
let s = 0;
perCallMicros('pick an endpoint of three for a session (affinity, bounded load)', () => {
  sink += balanced.pick(sessions[s++ % sessions.length])?.inFlight ?? 0;
});
const registry = { get: () => undefined, names: () => ['gpu', 'cloud'], spec: () => undefined, active: 'gpu', setActive() {} } as unknown as BackendRegistry;
perCallMicros("make a request's failover policy (failover: auto)", () => {
  sink += new Attempts(registry, { after: () => [], available: () => true }, DEFAULT_TUNING).hasFallback.length;
});

const raw = requestBody();
const body = JSON.parse(raw) as MessagesRequest;
const signer = signerOf('https://api.anthropic.com');
perCallMicros(`signature pass, the Claude Code request (${(Buffer.byteLength(raw) / 1024).toFixed(0)} KB, ${body.messages.length} messages)`, () => {
  sink += forSigner(body, signer) === body ? 1 : 0;
});
// A long session: 200 turns, every assistant turn with a thinking block this upstream signed.
const turns: MessagesRequest['messages'] = [];
for (let i = 0; i < 200; i++) {
  turns.push({ role: 'user', content: `question ${i}` });
  turns.push({ role: 'assistant', content: [{ type: 'thinking', thinking: `thought ${i}`, signature: `llmp1.${signer}.${'s'.repeat(300)}` }, { type: 'text', text: `answer ${i}` }] });
}
const long: MessagesRequest = { ...body, messages: [...turns, { role: 'user', content: 'next' }] };
perCallMicros('signature pass, 200 turns with signed thinking (copies the turns)', () => {
  sink += forSigner(long, signer).messages.length;
});
if (sink < 0) console.log(sink);
