// The proxy's cost, as ratios against calling the upstream directly in the same run (issue 13).
// The proxy (the built dist) and a fast OpenAI-compatible upstream each run in a process of their
// own; this process is the load generator. Every scenario runs ROUNDS rounds, each a batch sent
// straight to the upstream and a batch through the proxy, alternating which goes first, and
// reports medians with their ranges: throughput, latency p50 / p99, time to first byte, and the
// proxy's CPU per request from its own process accounting, also in floors (JSON.parse, stringify
// and SHA-256 of the body, timed in the proxy's process after each batch). Claude Code's captured request
// (76 KB, 24 tools) is the body; the size scenarios grow it to 400 KB and 2 MB with a longer
// conversation and shrink it to 10 KB. For scale, a plain node:http reference proxy, a byte
// pass-through and a pass-through that parses each body (bench/perf/) run the same scenarios. Writes bench/results/perf.json and perf.md.
// Run: npm run build && node --import tsx bench/perf.ts   (part of npm run bench)
// BENCH_PERF_ROUNDS (default 5), BENCH_PERF_ONLY=<substring of a scenario name>.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import type { MessagesRequest } from '../src/anthropic/types.js';
import { toOpenAIRequest } from '../src/openai/request.js';
import { startRedis, redisPresent } from '../tests/support/redis.js';

const ROUNDS = Number(process.env.BENCH_PERF_ROUNDS ?? 5);
const ONLY = process.env.BENCH_PERF_ONLY;
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

interface Stats {
  cpu: NodeJS.CpuUsage;
  rss: number;
}

interface Child {
  url: string;
  stats(): Promise<Stats>;
  /** CPU ms the floor (parse, serialise and hash `body`) takes in the child, now. */
  floor(body: string): Promise<number>;
  close(): Promise<void>;
}

async function start(script: string, args: string[] = []): Promise<Child> {
  // BENCH_PERF_PROFILE=<dir>: the proxy writes a V8 CPU profile of each scenario there (--cpu-prof).
  const profile = process.env.BENCH_PERF_PROFILE && !script.includes('upstream') ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PERF_PROFILE}`] : [];
  const child: ChildProcess = fork(here(script), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: profile });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { url: string }).url));
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    url,
    stats: () =>
      new Promise<Stats>((resolve) => {
        child.once('message', (message) => resolve(message as Stats));
        child.send('stats');
      }),
    floor: (body) =>
      new Promise<number>((resolve) => {
        child.once('message', (message) => resolve((message as { floorMs: number }).floorMs));
        child.send({ floor: body });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('close');
      }),
  };
}

/** One request's timings, ms. */
interface Timing {
  total: number;
  firstByte: number;
}

interface Target {
  pool: Pool;
  path: string;
  headers: Record<string, string>;
  body: string;
}

async function send(target: Target): Promise<Timing> {
  const started = performance.now();
  const response = await target.pool.request({ method: 'POST', path: target.path, headers: target.headers, body: target.body });
  let firstByte = 0;
  let tail = '';
  for await (const piece of response.body) {
    if (firstByte === 0) firstByte = performance.now() - started;
    tail = (tail + (piece as Buffer).toString('latin1')).slice(-200);
  }
  if (response.statusCode !== 200 || !/message_stop|"stop_reason"|\[DONE\]|"finish_reason"/.test(tail)) {
    throw new Error(`HTTP ${response.statusCode}: ${tail}`);
  }
  return { total: performance.now() - started, firstByte };
}

/** `count` requests, `concurrency` at a time; the batch's wall time and each request's timings. */
async function batch(target: Target, count: number, concurrency: number): Promise<{ wallMs: number; timings: Timing[] }> {
  const timings: Timing[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        next++;
        timings.push(await send(target));
      }
    }),
  );
  return { wallMs: performance.now() - started, timings };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};
const range = (values: number[]) => ({ median: median(values), min: Math.min(...values), max: Math.max(...values) });

interface Scenario {
  name: string;
  /** The proxy's config. */
  config: Record<string, unknown>;
  body: string;
  stream: boolean;
  concurrency: number;
  count: number;
  /** Requests sent through the proxy first, unmeasured (fills the cache for a hit scenario). */
  warm?: number;
  /** Send every request with a different last user turn (a miss even with the cache on). */
  headers?: Record<string, string>;
  /** The process under test: the proxy, the plain node:http reference (bench/perf/reference-process.mjs), the byte pass-through (bench/perf/passthrough-process.mjs) or the pass-through that parses, serialises and hashes each body (bench/perf/parsing-process.mjs). */
  process?: 'proxy' | 'reference' | 'passthrough' | 'parsing';
}

interface Result {
  name: string;
  bodyKB: number;
  stream: boolean;
  concurrency: number;
  count: number;
  rounds: number;
  direct: { rps: ReturnType<typeof range>; p50: ReturnType<typeof range>; p99: ReturnType<typeof range>; firstByteP50: ReturnType<typeof range> };
  proxy: { rps: ReturnType<typeof range>; p50: ReturnType<typeof range>; p99: ReturnType<typeof range>; firstByteP50: ReturnType<typeof range>; cpuMsPerRequest: ReturnType<typeof range>; systemCpuMsPerRequest: ReturnType<typeof range>; floorMs: ReturnType<typeof range>; cpuInFloors: ReturnType<typeof range> };
  /** For the proxy: the byte pass-through's CPU per request in the same rounds, and the proxy's CPU in pass-throughs (per round). */
  passThrough?: { cpuMsPerRequest: ReturnType<typeof range>; cpuInPassThroughs: ReturnType<typeof range> };
  /** Proxy throughput as a share of direct, and what the proxy adds, from the per-round medians. */
  throughputShare: number;
  addedP50Ms: number;
  addedP99Ms: number;
  addedFirstByteP50Ms: number;
}

async function run(scenario: Scenario, upstream: Child): Promise<Result> {
  const script = scenario.process ?? 'proxy';
  const proxy = await start(`./perf/${script}-process.mjs`, [JSON.stringify(scenario.config)]);
  // The proxy's scenarios also run the byte pass-through in the same rounds: the least any Node
  // proxy costs, as slow or as fast as the machine is at that minute.
  const passThrough = script === 'proxy' ? await start('./perf/passthrough-process.mjs', [JSON.stringify({ upstream: upstream.url })]) : undefined;
  const anthropic = JSON.parse(scenario.body) as MessagesRequest;
  const request = { ...anthropic, stream: scenario.stream };
  const proxyTarget: Target = {
    pool: new Pool(proxy.url, { connections: scenario.concurrency, pipelining: 1 }),
    path: '/v1/messages?beta=true',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...scenario.headers },
    body: JSON.stringify(request),
  };
  // What the proxy itself sends the upstream: the same work for the upstream on both paths.
  const directTarget: Target = {
    pool: new Pool(upstream.url, { connections: scenario.concurrency, pipelining: 1 }),
    path: '/v1/chat/completions',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(toOpenAIRequest(anthropic, { model: 'bench', stream: true })),
  };
  const passTarget: Target | undefined = passThrough && { ...proxyTarget, pool: new Pool(passThrough.url, { connections: scenario.concurrency, pipelining: 1 }) };
  for (let i = 0; i < (scenario.warm ?? 0); i++) await send(proxyTarget);
  // Warm-up: connections open, code optimised.
  await batch(directTarget, Math.min(scenario.count, 50), scenario.concurrency);
  await batch(proxyTarget, Math.min(scenario.count, 50), scenario.concurrency);
  if (passTarget) await batch(passTarget, Math.min(scenario.count, 50), scenario.concurrency);
  const passCpu: number[] = [];

  const rounds = { direct: [] as Array<{ rps: number; p50: number; p99: number; fb: number }>, proxy: [] as Array<{ rps: number; p50: number; p99: number; fb: number; cpu: number; system: number; floor: number }> };
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? (['direct', 'proxy', 'pass'] as const) : (['pass', 'proxy', 'direct'] as const);
    for (const which of order) {
      if (which === 'pass') {
        if (!passThrough || !passTarget) continue;
        const before = await passThrough.stats();
        await batch(passTarget, scenario.count, scenario.concurrency);
        const after = await passThrough.stats();
        passCpu.push((after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system) / 1000 / scenario.count);
        continue;
      }
      const before = which === 'proxy' ? await proxy.stats() : undefined;
      const { wallMs, timings } = await batch(which === 'proxy' ? proxyTarget : directTarget, scenario.count, scenario.concurrency);
      const totals = timings.map((t) => t.total);
      const summary = { rps: (scenario.count / wallMs) * 1000, p50: percentile(totals, 50), p99: percentile(totals, 99), fb: percentile(timings.map((t) => t.firstByte), 50) };
      if (which === 'direct') rounds.direct.push(summary);
      else {
        const after = await proxy.stats();
        const cpu = (after.cpu.user + after.cpu.system - before!.cpu.user - before!.cpu.system) / 1000 / scenario.count;
        const system = (after.cpu.system - before!.cpu.system) / 1000 / scenario.count;
        const floor = await proxy.floor(scenario.body);
        rounds.proxy.push({ ...summary, cpu, system, floor });
      }
    }
  }
  await proxyTarget.pool.close();
  await directTarget.pool.close();
  await passTarget?.pool.close();
  await proxy.close();
  await passThrough?.close();
  const of = <K extends 'rps' | 'p50' | 'p99' | 'fb'>(list: Array<Record<K, number>>, key: K) => range(list.map((r) => r[key]));
  const direct = { rps: of(rounds.direct, 'rps'), p50: of(rounds.direct, 'p50'), p99: of(rounds.direct, 'p99'), firstByteP50: of(rounds.direct, 'fb') };
  const proxied = { rps: of(rounds.proxy, 'rps'), p50: of(rounds.proxy, 'p50'), p99: of(rounds.proxy, 'p99'), firstByteP50: of(rounds.proxy, 'fb'), cpuMsPerRequest: range(rounds.proxy.map((r) => r.cpu)), systemCpuMsPerRequest: range(rounds.proxy.map((r) => r.system)), floorMs: range(rounds.proxy.map((r) => r.floor)), cpuInFloors: range(rounds.proxy.map((r) => r.cpu / r.floor)) };
  return {
    name: scenario.name,
    bodyKB: Math.round(Buffer.byteLength(scenario.body) / 1024),
    stream: scenario.stream,
    concurrency: scenario.concurrency,
    count: scenario.count,
    rounds: ROUNDS,
    direct,
    proxy: proxied,
    ...(passCpu.length > 0 ? { passThrough: { cpuMsPerRequest: range(passCpu), cpuInPassThroughs: range(rounds.proxy.map((r, i) => r.cpu / passCpu[i]!)) } } : {}),
    throughputShare: proxied.rps.median / direct.rps.median,
    addedP50Ms: proxied.p50.median - direct.p50.median,
    addedP99Ms: proxied.p99.median - direct.p99.median,
    addedFirstByteP50Ms: proxied.firstByteP50.median - direct.firstByteP50.median,
  };
}

/** Claude Code's request grown to about `kb` KB with earlier turns (a long session), or cut to its first tools. */
function sized(base: MessagesRequest, kb: number): string {
  const raw = JSON.stringify(base);
  if (kb * 1024 < raw.length) {
    const small: MessagesRequest = { ...base, tools: [] };
    for (const tool of base.tools ?? []) {
      if (JSON.stringify({ ...small, tools: [...small.tools!, tool] }).length > kb * 1024) break;
      small.tools!.push(tool);
    }
    return JSON.stringify(small);
  }
  const turns: MessagesRequest['messages'] = [];
  const filler = 'The test suite printed this line while it ran; the build is green and the change is ready for review. ';
  let n = 0;
  while (raw.length + JSON.stringify(turns).length < kb * 1024) {
    turns.push({ role: 'user', content: `Turn ${n}: ${filler.repeat(20)}` }, { role: 'assistant', content: `Noted ${n++}. ${filler.repeat(10)}` });
  }
  return JSON.stringify({ ...base, messages: [...turns, ...base.messages] });
}

const fixture = JSON.parse(readFileSync(here('../../shared/fixtures/claude-code/pong-turn1.json'), 'utf8')) as MessagesRequest;
const body = JSON.stringify(fixture);

const upstream = await start('./perf/upstream-process.mjs');
const miss = (url: string) => ({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${url}/v1`, model: 'bench', cache: false } } });
const withCache = (url: string, plugins: unknown[] = []) => ({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${url}/v1`, model: 'bench' } }, plugins });

const redis = redisPresent ? await startRedis() : undefined;
const scenarios: Scenario[] = [
  ...[1, 16, 64].flatMap((concurrency) =>
    [true, false].map((stream) => ({ name: `miss ${stream ? 'stream' : 'json'} c=${concurrency}`, config: miss(upstream.url), body, stream, concurrency, count: concurrency === 1 ? 200 : 100 * concurrency / 4 })),
  ),
  ...[1, 16].flatMap((concurrency) =>
    [true, false].map((stream) => ({ name: `hit memory ${stream ? 'stream' : 'json'} c=${concurrency}`, config: withCache(upstream.url), body, stream, concurrency, count: concurrency === 1 ? 200 : 800, warm: 1 })),
  ),
  ...(redis
    ? [1, 16].map((concurrency) => ({
        name: `hit redis stream c=${concurrency}`,
        config: withCache(upstream.url, [['memory-cache', { enabled: false }], ['redis-cache', { url: redis.url }]]),
        body,
        stream: true,
        concurrency,
        count: concurrency === 1 ? 200 : 800,
        warm: 1,
      }))
    : []),
  // About the least a Node proxy can do with the same request, for scale (no plugins, no cache, no checks).
  ...[1, 16].map((concurrency) => ({ name: `reference stream c=${concurrency}`, process: 'reference' as const, config: { upstream: upstream.url }, body, stream: true, concurrency, count: concurrency === 1 ? 200 : 400 })),
  ...[1, 16].map((concurrency) => ({ name: `pass-through stream c=${concurrency}`, process: 'passthrough' as const, config: { upstream: upstream.url }, body, stream: true, concurrency, count: concurrency === 1 ? 200 : 400 })),
  ...[1, 16].map((concurrency) => ({ name: `parsing pass-through stream c=${concurrency}`, process: 'parsing' as const, config: { upstream: upstream.url }, body, stream: true, concurrency, count: concurrency === 1 ? 200 : 400 })),
  ...[10, 76, 400, 2048].map((kb) => ({ name: `miss stream c=1 ${kb} KB`, config: miss(upstream.url), body: kb === 76 ? body : sized(fixture, kb), stream: true, concurrency: 1, count: kb >= 400 ? 60 : 200 })),
].filter((scenario) => ONLY === undefined || scenario.name.includes(ONLY));

const passText = (r: Result) => (r.passThrough ? `, ${r.passThrough.cpuInPassThroughs.median.toFixed(1)} pass-throughs of ${r.passThrough.cpuMsPerRequest.median.toFixed(3)}` : '');
const results: Result[] = [];
for (const scenario of scenarios) {
  const result = await run(scenario, upstream);
  results.push(result);
  console.log(
    `${result.name.padEnd(28)} ${String(result.bodyKB).padStart(5)} KB  proxy CPU ${result.proxy.cpuMsPerRequest.median.toFixed(3)} ms/req (kernel ${result.proxy.systemCpuMsPerRequest.median.toFixed(3)}, ${result.proxy.cpuInFloors.median.toFixed(1)} floors of ${result.proxy.floorMs.median.toFixed(3)}${passText(result)})` +
      `  throughput ${(result.throughputShare * 100).toFixed(0)} % of direct  added p50 ${result.addedP50Ms.toFixed(2)} p99 ${result.addedP99Ms.toFixed(2)} ms  first byte +${result.addedFirstByteP50Ms.toFixed(2)} ms`,
  );
}
await upstream.close();
await redis?.stop();

const meta = { node: process.version, cores: cpus().length, date: new Date().toISOString().slice(0, 10), rounds: ROUNDS };
mkdirSync(here('results'), { recursive: true });
if (ONLY === undefined) {
  writeFileSync(here('results/perf.json'), JSON.stringify({ ...meta, results }, null, 2) + '\n');
  const ms = (v: number) => v.toFixed(2);
  const rangeText = (r: ReturnType<typeof range>, digits = 2) => `${r.median.toFixed(digits)} (${r.min.toFixed(digits)}-${r.max.toFixed(digits)})`;
  const rows = results.map(
    (r) =>
      `| ${r.name} | ${r.bodyKB} | ${rangeText(r.proxy.cpuMsPerRequest, 3)} | ${r.proxy.cpuInFloors.median.toFixed(1)} × ${r.proxy.floorMs.median.toFixed(3)} | ${r.passThrough ? `${r.passThrough.cpuInPassThroughs.median.toFixed(1)} × ${r.passThrough.cpuMsPerRequest.median.toFixed(3)}` : ''} | ${(r.throughputShare * 100).toFixed(0)} % | +${ms(r.addedP50Ms)} / +${ms(r.addedP99Ms)} | +${ms(r.addedFirstByteP50Ms)} | ${ms(r.direct.p50.median)} / ${ms(r.proxy.p50.median)} |`,
  );
  writeFileSync(
    here('results/perf.md'),
    [
      `# The proxy against the upstream called directly`,
      '',
      `\`npm run build && node --import tsx bench/perf.ts\` on this ${meta.cores}-core machine, Node ${meta.node}, ${meta.date}: ${ROUNDS} rounds a scenario, direct, proxied and (for the proxy) pass-through batches alternating; medians over the rounds (range in brackets). The upstream answers at once; "miss" has the cache off for the backend (every request does the proxy's whole work), "hit" answers from the cache tier named. The floor is what any proxy does with the request at least (JSON.parse and JSON.stringify of it, SHA-256 of its bytes), timed in the proxy's process after each batch: CPU in floors stays comparable when the machine is busier or quieter (this one's speed varies by half over minutes). The pass-through (bench/perf/passthrough-process.mjs: the body's bytes forwarded, the answer piped back, nothing parsed) runs in the same rounds as the proxy: its CPU is the least any Node proxy costs here at that minute, and the proxy's CPU in pass-throughs compares what the proxy itself adds across machines and minutes. The parsing pass-through (bench/perf/parsing-process.mjs) does the floor's work on each request besides (parses, serialises and hashes the body, sends what it serialised): the least a proxy that reads its requests costs, at the concurrency it runs at.`,
      '',
      '| scenario | body KB | proxy CPU ms / request | in floors × floor ms | in pass-throughs × pass-through ms | throughput vs direct | added latency p50 / p99 ms | added first byte p50 ms | p50 direct / proxied ms |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
}
