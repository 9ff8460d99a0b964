// Memory under many concurrent slow streams: the proxy (built dist, plain node) runs alone in
// its own process, a slow OpenAI-compatible upstream and the load generator in two others.
// Each round opens BENCH_STREAMS (default 1,000) streams at once, each with the captured
// ~76 KB Claude Code request (its own prompt, so every one goes upstream), streaming for ~6 s;
// it prints the proxy's peak RSS, its RSS once the round is over, and its heap, and writes
// bench/results/memory.json and memory.md (the README quotes the line).
// The proxy's heap is tuned as `llm-proxy start` tunes it (src/cli/heap-tuning.ts).
// Variants: BENCH_PROXY_DIST (another build), BENCH_PROXY_NODE_OPTIONS (V8 flags),
// BENCH_LIBRARY_HEAP=1 (V8's defaults, as createProxy in a user's process), BENCH_RESULTS_NAME.
// Run: npm run build && node --import tsx bench/memory.ts   (part of npm run bench)
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000);
const ROUNDS = Number(process.env.BENCH_MEMORY_ROUNDS ?? 3);
/** Streams start evenly over this long; each then lasts PIECES × INTERVAL_MS (10 s), so all are open at once. */
const RAMP_MS = Number(process.env.BENCH_RAMP_MS ?? 3000);
const PIECES = Number(process.env.BENCH_PIECES ?? 40);
const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 250);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

interface ProxyStats {
  peakRss: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}
interface LoadResult {
  ok: number;
  failed: number;
  ms: number;
  error?: string;
}

if (!existsSync(here('../dist/src/proxy.js'))) throw new Error('bench/memory.ts measures the built proxy: run `npm run build` first');

const children: ChildProcess[] = [];
function start(file: string, args: string[], tsx: boolean): ChildProcess {
  const env = { ...process.env, PIECES: String(PIECES), INTERVAL_MS: String(INTERVAL_MS) };
  // BENCH_PROXY_NODE_OPTIONS: V8 flags for the proxy alone, e.g. --max-old-space-size=1024.
  const proxyFlags = (process.env.BENCH_PROXY_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const child = fork(here(file), args, { execArgv: tsx ? ['--import', 'tsx'] : ['--expose-gc', ...proxyFlags], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env });
  children.push(child);
  return child;
}
function ask<T>(child: ChildProcess, message?: object): Promise<T> {
  const reply = new Promise<T>((resolve) => child.once('message', (value) => resolve(value as T)));
  if (message) child.send(message);
  return reply;
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);
const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

try {
  const upstream = start('./memory/slow-upstream.ts', [], true);
  const { url: upstreamUrl } = await ask<{ url: string }>(upstream);
  const proxy = start('./memory/proxy-process.mjs', [upstreamUrl], false);
  const { url, heapTuned } = await ask<{ url: string; heapTuned: boolean }>(proxy);
  const load = start('./memory/load.ts', [], true);
  await ask(load);

  const baseline = await ask<ProxyStats>(proxy, { reset: true });
  const rounds: Array<ProxyStats & LoadResult & { mostOpen: number; rssAfter: number }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    await ask(upstream, {});
    const result = await ask<LoadResult>(load, { url, count: STREAMS, round, rampMs: RAMP_MS });
    if (result.failed > 0) throw new Error(`round ${round}: ${result.failed} of ${STREAMS} streams failed (${result.error ?? 'no message_stop'})`);
    const { mostOpen } = await ask<{ mostOpen: number }>(upstream, {});
    await settle(1_000);
    const stats = await ask<ProxyStats>(proxy, { reset: true });
    rounds.push({ ...stats, ...result, mostOpen, rssAfter: stats.rss });
    console.log(
      `round ${round}: ${result.ok} streams (${mostOpen} open at once) in ${(result.ms / 1000).toFixed(1)} s; ` +
        `proxy RSS peak ${mb(stats.peakRss)} MB, after ${mb(stats.rss)} MB, heap used ${mb(stats.heapUsed)} MB`,
    );
  }
  const live = await ask<ProxyStats>(proxy, { gc: true });
  const peak = Math.max(...rounds.map((r) => r.peakRss));
  const line =
    `${STREAMS} concurrent slow streams of the 76 KB Claude Code request, ${ROUNDS} rounds: proxy RSS peak ${rounds.map((r) => mb(r.peakRss)).join(' / ')} MB, ` +
    `after each round ${rounds.map((r) => mb(r.rssAfter)).join(' / ')} MB, live heap after GC ${mb(live.heapUsed)} MB (idle start ${mb(baseline.rss)} MB; streams started over ${RAMP_MS / 1000} s, ${(PIECES * INTERVAL_MS) / 1000} s each; Node ${process.versions.node}${process.env.BENCH_PROXY_NODE_OPTIONS ? ` ${process.env.BENCH_PROXY_NODE_OPTIONS}` : ''}, ${heapTuned ? 'heap tuned as llm-proxy start does' : "V8's heap defaults, as in a library user's process"}, ${cpus().length} cores)`;
  console.log(`proxy RSS peak ${mb(peak)} MB over ${ROUNDS} rounds; live heap after GC ${mb(live.heapUsed)} MB, RSS ${mb(live.rss)} MB`);

  mkdirSync(here('./results'), { recursive: true });
  const record = {
    date: new Date().toISOString(),
    node: process.versions.node,
    nodeOptions: process.env.BENCH_PROXY_NODE_OPTIONS ?? '',
    heapTuned,
    cores: cpus().length,
    streams: STREAMS,
    rampMs: RAMP_MS,
    streamMs: PIECES * INTERVAL_MS,
    baseline,
    rounds,
    afterGc: live,
  };
  // BENCH_RESULTS_NAME keeps a variant (another build, other V8 flags) next to the default run.
  const name = process.env.BENCH_RESULTS_NAME ?? 'memory';
  writeFileSync(here(`./results/${name}.json`), `${JSON.stringify({ ...record, proxyDist: process.env.BENCH_PROXY_DIST ? 'other build' : 'dist' }, null, 2)}\n`);
  writeFileSync(here(`./results/${name}.md`), `${line}\n`);
} finally {
  for (const child of children) child.kill();
}
