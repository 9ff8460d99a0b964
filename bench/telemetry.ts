// What tracing costs: the proxy's own CPU per request with the telemetry plugin off, on with a
// collector that answers, and on with one that takes the connection and never answers.
// Each proxy runs in a process of its own (tracing's AsyncLocalStorage, once used, costs every
// promise of its process) and reports its own CPU; the load and the upstream run here, and the
// batches go to the three proxies in turn, so a machine that speeds up or slows down does so for
// all of them alike.
// Run: node --import tsx bench/telemetry.ts   (target, issue 10: telemetry on adds under 5 %)
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MessagesRequest } from '../src/anthropic/types.js';
import { requestBody } from './measure.js';
import { openaiTextChunks, startFakeUpstream } from '../tests/support/fake-upstream.js';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 20);
const PER_BATCH = Number(process.env.BENCH_PER_BATCH ?? 100);
const VARIANTS = ['off', 'on', 'on, collector never answers'] as const;
type Variant = (typeof VARIANTS)[number];

interface FromProxy {
  port?: number;
  cpu?: NodeJS.CpuUsage;
  dropped?: number;
}

if (process.env.BENCH_TELEMETRY_PROXY) await serveProxy(JSON.parse(process.env.BENCH_TELEMETRY_PROXY) as { upstream: string; collector?: string });
else await measure();

/** A proxy process: listens, says its port, and answers `cpu` with its own CPU use and `dropped` with its span drops. */
async function serveProxy(settings: { upstream: string; collector?: string }): Promise<void> {
  const { createProxy } = await import('../src/proxy.js');
  const { telemetry } = await import('../plugins/telemetry/index.js');
  const proxy = await createProxy({
    backend: 'gpu',
    backends: { gpu: { type: 'openai', url: `${settings.upstream}/v1`, model: 'qwen3-coder:30b' } },
    logLevel: 'silent',
    plugins: settings.collector ? [telemetry({ endpoint: settings.collector, ...(JSON.parse(process.env.BENCH_TELEMETRY_OPTIONS ?? '{}') as object) })] : [],
  });
  await proxy.listen(0, '127.0.0.1');
  process.send?.({ port: Number(new URL(proxy.url).port) } satisfies FromProxy);
  process.on('message', (message: string) => {
    if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() } satisfies FromProxy);
    if (message === 'dropped') {
      void fetch(`${proxy.url}/metrics`)
        .then((res) => res.text())
        .then((text) => process.send?.({ dropped: Number(/^llm_proxy_trace_spans_total\{result="dropped"\} (\d+)$/m.exec(text)?.[1] ?? 0) } satisfies FromProxy));
    }
    if (message === 'close') void proxy.close().then(() => process.exit(0));
  });
}

function ask(child: ChildProcess, message: string): Promise<FromProxy> {
  return new Promise((resolve) => {
    child.once('message', (answer: FromProxy) => resolve(answer));
    child.send(message);
  });
}

async function measure(): Promise<void> {
  const raw = requestBody();
  const body = JSON.parse(raw) as MessagesRequest;
  const upstream = await startFakeUpstream({ format: 'openai' });
  upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('pong', { pieces: 3 }) });

  // A collector in a process of its own (its decoding is nobody's cost here): answers every export.
  const collector = spawn(process.execPath, ['-e', "require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{s.writeHead(200,{'content-type':'application/x-protobuf'});s.end()})}).listen(0,'127.0.0.1',function(){console.log(this.address().port)})"], { stdio: ['ignore', 'pipe', 'inherit'] });
  const collectorPort = await new Promise<number>((resolve) => collector.stdout.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim()))));
  // A collector that takes the connection and never answers.
  const held = new Set<Socket>();
  const hole = createServer((socket) => {
    held.add(socket);
    socket.resume();
  });
  await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
  const holePort = (hole.address() as AddressInfo).port;

  const collectors: Record<Variant, string | undefined> = { off: undefined, on: `http://127.0.0.1:${collectorPort}`, 'on, collector never answers': `http://127.0.0.1:${holePort}` };
  const proxies = {} as Record<Variant, { child: ChildProcess; url: string }>;
  for (const name of VARIANTS) {
    const child = fork(fileURLToPath(import.meta.url), [], {
      execArgv: [...process.execArgv, ...(process.env.BENCH_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}/${name.replace(/\W+/g, '-')}`] : [])],
      env: { ...process.env, BENCH_TELEMETRY_PROXY: JSON.stringify({ upstream: upstream.url, collector: collectors[name] }) },
    });
    const { port } = await new Promise<FromProxy>((resolve) => child.once('message', resolve));
    proxies[name] = { child, url: `http://127.0.0.1:${port}` };
  }

  const send = async (url: string) => {
    const res = await fetch(`${url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-llm-proxy-cache': 'no-store', 'x-claude-code-session-id': 'bench-session' },
      body: raw,
    });
    const text = await res.text();
    if (!text.includes('message_stop')) throw new Error(`bad answer: ${text.slice(0, 200)}`);
    upstream.reset();
  };
  /** The proxy's own CPU (user + system) per request over one batch, ms. */
  const batch = async (name: Variant) => {
    const { child, url } = proxies[name];
    const before = (await ask(child, 'cpu')).cpu!;
    for (let i = 0; i < PER_BATCH; i++) await send(url);
    const after = (await ask(child, 'cpu')).cpu!;
    return (after.user - before.user + after.system - before.system) / 1000 / PER_BATCH;
  };

  for (const name of VARIANTS) for (let i = 0; i < 50; i++) await send(proxies[name].url);
  const samples: Record<Variant, number[]> = { off: [], on: [], 'on, collector never answers': [] };
  for (let round = 0; round < BATCHES; round++) {
    // Each round starts with another proxy: no variant always runs first, or right after the same one.
    for (let i = 0; i < VARIANTS.length; i++) {
      const name = VARIANTS[(round + i) % VARIANTS.length]!;
      samples[name].push(await batch(name));
    }
  }

  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
  const total = (values: number[]) => values.reduce((sum, value) => sum + value, 0);
  const quartiles = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `${sorted[Math.floor(sorted.length / 4)]!.toFixed(3)}-${sorted[Math.floor((3 * sorted.length) / 4)]!.toFixed(3)}`;
  };
  const dropped = (await ask(proxies['on, collector never answers'].child, 'dropped')).dropped ?? 0;
  const lines = [
    `request body ${(raw.length / 1024).toFixed(0)} KB, ${body.tools?.length ?? 0} tools, streamed; ${BATCHES} rounds of ${PER_BATCH} requests to each proxy in turn; Node ${process.version}`,
    ...VARIANTS.map((name) => {
      const cost = median(samples[name]);
      // All its CPU against all the off proxy's, the rounds interleaved: the machine's drift and a stray GC average out.
      const ratio = total(samples[name]) / total(samples.off) - 1;
      const extra = name === 'off' ? '' : `  ${ratio >= 0 ? '+' : ''}${(ratio * 100).toFixed(1)} % against off`;
      return `proxy, telemetry ${name.padEnd(28)} ${(total(samples[name]) / samples[name].length).toFixed(3)} ms CPU per request (median batch ${cost.toFixed(3)}, quartiles ${quartiles(samples[name])})${extra}`;
    }),
    `collector never answers: ${dropped} spans dropped, every request answered`,
  ];
  console.log(lines.join('\n'));
  if (process.env.BENCH_WRITE !== '0') {
    writeFileSync(
      fileURLToPath(new URL('./results/telemetry.md', import.meta.url)),
      `# Telemetry: the proxy's CPU per request with tracing off and on\n\n\`node --import tsx bench/telemetry.ts\` on this 2-core machine, ${new Date().toISOString().slice(0, 10)}. Target (issue 10): telemetry on adds under 5 % CPU per request. Each proxy is a process of its own reporting its own CPU; the rounds go to the three in turn.\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`,
    );
  }

  for (const { child } of Object.values(proxies)) child.send('close');
  for (const socket of held) socket.destroy();
  hole.close();
  collector.kill();
  await upstream.close();
}
