// The proxy under the memory benchmark, alone in its process (plain node, the built dist), so
// its RSS is the proxy's own. Reports memory on request over IPC.
import { readFileSync, writeFileSync } from 'node:fs';

// BENCH_PROXY_DIST compares another build (e.g. of an older commit) on the same machine.
const dist = process.env.BENCH_PROXY_DIST ?? new URL('../../dist', import.meta.url).pathname;
// As `llm-proxy start` runs it (src/cli/heap-tuning.ts: tuned before the proxy's modules load and
// again after); BENCH_LIBRARY_HEAP=1 measures createProxy in a process that leaves V8's heap
// defaults alone, as a library user's does.
const tuning = process.env.BENCH_LIBRARY_HEAP === '1' ? undefined : await import(`${dist}/src/cli/heap-tuning.js`).catch(() => undefined);
tuning?.tuneHeapForStreams(process.env, process.execArgv, 'before-load');
const { createProxy } = await import(`${dist}/src/proxy.js`);
const heapTuned = tuning?.tuneHeapForStreams() ?? false;

const upstream = process.argv[2];
const proxy = await createProxy({
  backend: 'gpu',
  backends: { gpu: { type: 'openai', url: `${upstream}/v1`, model: 'bench' } },
  logLevel: 'warn',
});
const url = await proxy.listen(0, '127.0.0.1');

// Linux keeps the exact peak (VmHWM) and resets it on request; elsewhere, sample.
const hasProc = (() => {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return /VmHWM/.test(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return false;
  }
})();
let sampledPeak = 0;
const sample = () => {
  sampledPeak = Math.max(sampledPeak, process.memoryUsage.rss());
};
if (!hasProc) setInterval(sample, 10).unref();
const kb = (field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) * 1024;

process.on('message', (message) => {
  if (message.gc) globalThis.gc?.();
  sample();
  const mem = process.memoryUsage();
  process.send({
    peakRss: hasProc ? kb('VmHWM') : sampledPeak,
    rss: mem.rss,
    heapUsed: mem.heapUsed,
    heapTotal: mem.heapTotal,
    external: mem.external,
    arrayBuffers: mem.arrayBuffers,
  });
  if (message.reset) {
    sampledPeak = 0;
    if (hasProc) writeFileSync('/proc/self/clear_refs', '5');
  }
});
process.send({ url, heapTuned });
