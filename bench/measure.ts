import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);

/** The captured Claude Code request (argv[2] overrides it). */
export const requestBody = (): string =>
  readFileSync(process.argv[2] ?? fileURLToPath(new URL('../../shared/fixtures/claude-code/tool-turn2.json', import.meta.url)), 'utf8');

/** Milliseconds per run, after 20 warm-up runs. */
export async function time(rounds: number, run: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await run();
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await run();
    out.push(performance.now() - started);
  }
  return out;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const fmt = (ms: number): string => `${ms.toFixed(3)} ms`;
