// What tracing costs: the proxy's CPU per request with the telemetry plugin off, on with a
// collector that answers, and on with one that takes the connection and never answers.
// Each variant runs in a process of its own (tracing's AsyncLocalStorage, once used, costs every
// promise of its process), the variants' processes alternating; in each, the proxy's share is the
// process's CPU per request minus that of the same request sent straight to the upstream.
// Run: node --import tsx bench/telemetry.ts   (target, issue 10: telemetry on adds under 5 %)
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createProxy, type Proxy } from '../src/proxy.js';
import { telemetry } from '../plugins/telemetry/index.js';
import { toOpenAIRequest } from '../src/openai/request.js';
import type { MessagesRequest } from '../src/anthropic/types.js';
import { requestBody } from './measure.js';
import { openaiTextChunks, startFakeUpstream } from '../tests/support/fake-upstream.js';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 6);
const PER_BATCH = Number(process.env.BENCH_PER_BATCH ?? 100);
const ROUNDS = Number(process.env.BENCH_PROCESSES ?? 5);
const VARIANTS = ['off', 'on', 'on, collector never answers'] as const;
type Variant = (typeof VARIANTS)[number];
const variant = process.env.BENCH_TELEMETRY_VARIANT as Variant | undefined;
if (variant === undefined) await parent();
else await child(variant);

/** Runs each variant's process in turn, ROUNDS times, and reports the medians. */
async function parent(): Promise<void> {
  const results: Record<Variant, Array<{ direct: number; proxy: number; dropped: number }>> = { off: [], on: [], 'on, collector never answers': [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const name of VARIANTS) {
      const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
        env: { ...process.env, BENCH_TELEMETRY_VARIANT: name },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
      if (code !== 0) throw new Error(`the ${name} run failed (exit ${code})`);
      results[name].push(JSON.parse(out.trim().split('\n').pop()!) as { direct: number; proxy: number; dropped: number });
    }
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const range = (values: number[]) => `${Math.min(...values).toFixed(3)}-${Math.max(...values).toFixed(3)}`;
  const off = median(results.off.map((r) => r.proxy));
  const raw = requestBody();
  const tools = (JSON.parse(raw) as MessagesRequest).tools?.length ?? 0;
  const lines = [
    `request body ${(raw.length / 1024).toFixed(0)} KB, ${tools} tools, streamed; ${ROUNDS} processes per variant, alternating, each ${BATCHES} batches of ${PER_BATCH} requests; Node ${process.version}`,
    `direct to the upstream (client + upstream)    ${median(VARIANTS.flatMap((name) => results[name].map((r) => r.direct))).toFixed(3)} ms CPU per request`,
    ...VARIANTS.map((name) => {
      const costs = results[name].map((r) => r.proxy);
      const cost = median(costs);
      const extra = name === 'off' ? '' : `  ${cost >= off ? '+' : ''}${(((cost - off) / off) * 100).toFixed(1)} % against off`;
      return `proxy, telemetry ${name.padEnd(28)} ${cost.toFixed(3)} ms CPU per request (range ${range(costs)})${extra}`;
    }),
    `collector never answers: ${median(results['on, collector never answers'].map((r) => r.dropped))} spans dropped per process (median), every request answered`,
  ];
  console.log(lines.join('\n'));
  if (process.env.BENCH_WRITE !== '0') {
    writeFileSync(
      fileURLToPath(new URL('./results/telemetry.md', import.meta.url)),
      `# Telemetry: CPU per request with tracing off and on\n\n\`node --import tsx bench/telemetry.ts\` on this 2-core machine, ${new Date().toISOString().slice(0, 10)}. Target (issue 10): telemetry on adds under 5 % CPU per request.\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`,
    );
  }
}

/** One variant: its proxy, the upstream and the load in this process; prints its medians as JSON. */
async function child(name: Variant): Promise<void> {
  const raw = requestBody();
  const body = JSON.parse(raw) as MessagesRequest;
  const upstream = await startFakeUpstream({ format: 'openai' });
  upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('pong', { pieces: 3 }) });
  const backends = { gpu: { type: 'openai' as const, url: `${upstream.url}/v1`, model: 'qwen3-coder:30b' } };

  // A collector in a process of its own (its decoding is not the proxy's cost): answers every export.
  const collector = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(200,{'content-type':'application/x-protobuf'});s.end()})}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const collectorPort = await new Promise<number>((resolve) => collector.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  // A collector that never answers.
  const held = new Set<Socket>();
  const hole = createServer((socket) => {
    held.add(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
  const holePort = (hole.address() as AddressInfo).port;

  async function start(plugins: Parameters<typeof createProxy>[0]['plugins']): Promise<Proxy> {
    const proxy = await createProxy({ backend: 'gpu', backends, logLevel: 'silent', plugins });
    await proxy.listen(0, '127.0.0.1');
    return proxy;
  }
  const proxy = await start(
    name === 'off' ? [] : [telemetry({ endpoint: `http://127.0.0.1:${name === 'on' ? collectorPort : holePort}` })],
  );

  const openaiBody = JSON.stringify(toOpenAIRequest(body, { model: 'qwen3-coder:30b', stream: true }));
  async function direct(): Promise<void> {
    const res = await fetch(`${upstream.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: openaiBody });
    await res.text();
  }
  async function through(proxy: Proxy): Promise<void> {
    const res = await fetch(`${proxy.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-llm-proxy-cache': 'no-store', 'x-claude-code-session-id': 'bench-session' },
      body: raw,
    });
    const text = await res.text();
    if (!text.includes('message_stop')) throw new Error(`bad answer: ${text.slice(0, 200)}`);
  }

  /** Process CPU (user + system) per request over one batch, ms. */
  async function cpuPerRequest(run: () => Promise<void>): Promise<number> {
    const before = process.cpuUsage();
    for (let i = 0; i < PER_BATCH; i++) {
      await run();
      upstream.reset();
    }
    const used = process.cpuUsage(before);
    return (used.user + used.system) / 1000 / PER_BATCH;
  }

  for (let i = 0; i < 30; i++) {
    await direct();
    await through(proxy);
  }
  const directs: number[] = [];
  const proxied: number[] = [];
  for (let batch = 0; batch < BATCHES; batch++) {
    const straight = await cpuPerRequest(direct);
    directs.push(straight);
    proxied.push((await cpuPerRequest(() => through(proxy))) - straight);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const scrape = await fetch(`${proxy.url}/metrics`).then((res) => res.text());
  const dropped = Number(/^llm_proxy_trace_spans_total\{result="dropped"\} (\d+)$/m.exec(scrape)?.[1] ?? 0);
  console.log(JSON.stringify({ direct: median(directs), proxy: median(proxied), dropped }));

  await proxy.close();
  for (const socket of held) socket.destroy();
  hole.close();
  collector.kill();
  await upstream.close();
}
