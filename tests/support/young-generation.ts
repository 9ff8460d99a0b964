// How large the young generation grows in a process that allocates objects which survive a
// scavenge or two (as a request's do while it is served), a batch per turn of the event loop.
// With `tune`, it first calls tuneHeapForStreams, as `llm-proxy start` does. Prints the size.
import { getHeapSpaceStatistics } from 'node:v8';
import { setImmediate as turn } from 'node:timers/promises';
import { tuneHeapForStreams } from '../../src/cli/heap-tuning.js';

if (process.argv.includes('tune') && !tuneHeapForStreams({}, [])) throw new Error('not tuned');
const young = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;

let largest = young();
const recent: Array<{ id: number; text: string }> = [];
for (let batch = 0; batch < 400; batch++) {
  for (let i = 0; i < 20_000; i++) {
    recent.push({ id: i, text: `request ${batch}:${i}` });
    if (recent.length > 60_000) recent.splice(0, 20_000);
  }
  largest = Math.max(largest, young());
  await turn();
}
console.log(JSON.stringify({ largest, kept: recent.length }));
