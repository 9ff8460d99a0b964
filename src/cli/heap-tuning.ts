import { setFlagsFromString } from 'node:v8';

/** The old generation may grow 20 % past what the last full GC kept before the next one. */
export const HEAP_GROWING_PERCENT = 20;

const USER_HEAP_FLAGS = /--(heap-growing-percent|heap_growing_percent|optimize-for-size|optimize_for_size)\b/;

/**
 * For a proxy process (`llm-proxy start`, `llm-proxy code`): V8 lets a process whose heap limit
 * is gigabytes (the default on a machine with a lot of memory) grow its old generation up to
 * 4x between full GCs. An open stream's state (~45 KB) lives as long as the answer, so it is
 * promoted and turns into old-generation garbage when the stream ends; with 1,000 slow streams
 * RSS climbed to 275-341 MB over three rounds for ~75 MB live. V8 reads this flag whenever it
 * sets the next limit, so setting it once at startup takes effect; the extra full GCs of a heap
 * this size cost a few milliseconds each. Heap flags the user gave node (NODE_OPTIONS or its
 * command line) win. Not done by `createProxy`: a library leaves its host's V8 alone.
 */
export function tuneHeapForStreams(env: NodeJS.ProcessEnv = process.env, execArgv: readonly string[] = process.execArgv): boolean {
  if (USER_HEAP_FLAGS.test(`${env.NODE_OPTIONS ?? ''} ${execArgv.join(' ')}`)) return false;
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  return true;
}
