import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The old generation may grow 20 % past what the last full GC kept before the next one. */
export const HEAP_GROWING_PERCENT = 20;
/** The young generation (both semi-spaces) grows up to this, where V8 lets it reach 32 MB. */
export const YOUNG_GENERATION_CAP_BYTES = 8 * 1024 * 1024;

const USER_HEAP_FLAGS = /--(heap-growing-percent|heap_growing_percent|optimize-for-size|optimize_for_size|max-semi-space-size|max_semi_space_size|semi-space-growth-factor|semi_space_growth_factor)\b/;

/**
 * For a proxy process (`llm-proxy start`, `llm-proxy code`): V8 lets a process whose heap limit
 * is gigabytes (the default on a machine with a lot of memory) grow its old generation up to
 * 4x between full GCs. An open stream's state (~45 KB) lives as long as the answer, so it is
 * promoted and turns into old-generation garbage when the stream ends; with 1,000 slow streams
 * RSS climbed to 275-341 MB over three rounds for ~75 MB live. V8 reads this flag whenever it
 * sets the next limit, so setting it once at startup takes effect; the extra full GCs of a heap
 * this size cost a few milliseconds each.
 *
 * Under 1,000 open streams the young generation also grows to V8's largest (two 16 MB
 * semi-spaces), which is 25-30 MB of RSS that stays. Its largest size is fixed at startup, but how
 * it grows is read whenever it does: it grows (doubling) to YOUNG_GENERATION_CAP_BYTES and no
 * further, and may grow again after V8 shrinks it. With the compaction below, bench/memory.ts
 * peaks at 169 MB on Node 22 (207 before) and 158 MB on Node 20 (198).
 * The CLI calls this with `before-load` before it loads the proxy's modules (so the cap holds
 * while they load; V8 20 cannot shrink the young generation afterwards), and again once they are
 * loaded, which adds the compaction. Heap flags the user gave node (NODE_OPTIONS or its command
 * line) win. Not done by `createProxy`: a library leaves its host's V8 alone.
 */
export function tuneHeapForStreams(
  env: NodeJS.ProcessEnv = process.env,
  execArgv: readonly string[] = process.execArgv,
  phase: 'before-load' | 'loaded' = 'loaded',
): boolean {
  if (USER_HEAP_FLAGS.test(`${env.NODE_OPTIONS ?? ''} ${execArgv.join(' ')}`)) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  if (phase === 'loaded') compactOnce();
  capYoungGeneration(YOUNG_GENERATION_CAP_BYTES);
  return true;
}

/**
 * One full, compacting GC, once the modules are loaded: loading grew the young generation to
 * V8's largest and left garbage; on Node 22 and later this gives both back (idle RSS 96 -> 55 MB in
 * a test). Node 20's V8 takes no GC flavor and runs a plain full GC.
 */
function compactOnce(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
  gc({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}

let capped = false;

/** After each GC: the young generation may grow (x2, V8's default) while under half of `cap` bytes. Once per process. */
function capYoungGeneration(cap: number): void {
  if (capped) return;
  capped = true;
  let growing = true;
  const check = () => {
    const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
    // GC entries arrive after the GC, and a burst of allocation may grow it once more before
    // this runs: it stops growing at half the cap, to end at the cap after one more doubling.
    const grow = young * 2 < cap;
    if (grow === growing) return;
    growing = grow;
    setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  };
  new PerformanceObserver(check).observe({ entryTypes: ['gc'] });
  check();
}
