// How far the old generation grows past what a full GC kept, in a process that keeps ~60 MB live
// and makes garbage that lives long enough to be promoted (as an open stream's state does).
// With `tune`, it first calls tuneHeapForStreams, as `llm-proxy start` does. Prints the ratio.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { tuneHeapForStreams } from '../../src/cli/heap-tuning.js';

if (process.argv.includes('tune') && !tuneHeapForStreams({}, [])) throw new Error('not tuned');
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const oldGeneration = () =>
  getHeapSpaceStatistics()
    .filter((space) => !/new/.test(space.space_name))
    .reduce((sum, space) => sum + space.space_used_size, 0);

const live: number[][] = [];
for (let i = 0; i < 750; i++) live.push(new Array<number>(10_000).fill(i));
gc();
const kept = oldGeneration();
let most = kept;
const window: number[][] = [];
for (let i = 0; i < 6_000; i++) {
  window.push(new Array<number>(10_000).fill(i));
  if (window.length > 400) window.shift();
  if (i % 50 === 0) most = Math.max(most, oldGeneration());
}
console.log(JSON.stringify({ ratio: most / kept, live: live.length }));
