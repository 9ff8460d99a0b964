// `llm-proxy start` keeps V8 from letting the old generation grow to four times what is live
// (bench/memory.ts measures what that does to 1,000 open streams), unless the user chose.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { YOUNG_GENERATION_CAP_BYTES, tuneHeapForStreams } from '../src/cli/heap-tuning.js';

const growth = fileURLToPath(new URL('./support/heap-growth.ts', import.meta.url));
const young = fileURLToPath(new URL('./support/young-generation.ts', import.meta.url));
const run = (script: string, args: string[]) => JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', script, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })) as Record<string, number>;
const ratio = (...args: string[]) =>
  (JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', growth, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })) as { ratio: number }).ratio;

describe('the heap tuning of a proxy process', () => {
  it('leaves alone a heap flag the user gave node, in NODE_OPTIONS or on its command line', () => {
    expect(tuneHeapForStreams({ NODE_OPTIONS: '--heap-growing-percent=50' }, [])).toBe(false);
    expect(tuneHeapForStreams({ NODE_OPTIONS: '--max-http-header-size=1 --optimize-for-size' }, [])).toBe(false);
    expect(tuneHeapForStreams({}, ['--heap_growing_percent=10'])).toBe(false);
  });

  it('takes effect when set after startup: the old generation is collected sooner', () => {
    const untuned = ratio();
    const tuned = ratio('tune');
    // About 2.3 against 5.3 on Node 20 and 22: the margin is wide.
    expect(tuned * 1.5).toBeLessThan(untuned);
  }, 60_000);

  it('keeps the young generation at its cap, where V8 lets it grow to 32 MB', () => {
    const untuned = run(young, []).largest!;
    const tuned = run(young, ['tune']).largest!;
    expect(untuned).toBeGreaterThan(2 * YOUNG_GENERATION_CAP_BYTES);
    expect(tuned).toBeLessThanOrEqual(YOUNG_GENERATION_CAP_BYTES);
  }, 60_000);
});
