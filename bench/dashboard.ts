// What the dashboard adds to a request: one row into its ring and one minute bucket updated.
// Run: node --import tsx bench/dashboard.ts   (issue 11 asks for the per-request cost of the history buffer)
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RequestLog, Timeline, type RequestRow } from '../plugins/dashboard/history.js';

const N = 1_000_000;
const log = new RequestLog(100);
const timeline = new Timeline(60);
const backends = ['gpu', 'cloud', 'local'];
const rows: RequestRow[] = Array.from({ length: 1000 }, (_, i) => ({
  at: Date.now(),
  id: `req_${i}`,
  backend: backends[i % 3],
  model: 'qwen3-coder:30b',
  cache: i % 4 === 0 ? 'hit' : 'miss',
  ...(i % 4 === 0 ? { tier: 'memory' } : {}),
  status: i % 17 === 0 ? 429 : 200,
  stream: true,
  ttftMs: 200 + (i % 50),
  durationMs: 900 + (i % 300),
  inputTokens: 30_000,
  outputTokens: 400,
}));

function run(count: number): number {
  const started = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    const row = rows[i % rows.length]!;
    log.add(row);
    timeline.add(row);
  }
  const used = process.cpuUsage(started);
  return ((used.user + used.system) * 1000) / count;
}

run(100_000);
const results = [run(N), run(N), run(N)].sort((a, b) => a - b);
const before = process.memoryUsage().heapUsed;
const snapshotStarted = performance.now();
for (let i = 0; i < 100; i++) timeline.points();
const snapshotMs = (performance.now() - snapshotStarted) / 100;
const lines = [
  `${N} requests, three runs, Node ${process.version}`,
  `ring row + minute bucket per request   ${results[1]!.toFixed(0)} ns CPU (runs ${results.map((r) => r.toFixed(0)).join(', ')})`,
  `the timeline's points for a snapshot   ${snapshotMs.toFixed(3)} ms (60 minutes, 3 backends)`,
  `heap used after                        ${(before / 2 ** 20).toFixed(1)} MB (fixed: the ring and 60 slots)`,
];
console.log(lines.join('\n'));
if (process.env.BENCH_WRITE !== '0') {
  writeFileSync(
    fileURLToPath(new URL('./results/dashboard.md', import.meta.url)),
    `# Dashboard: what its history costs a request\n\n\`node --import tsx bench/dashboard.ts\` on this 2-core machine, ${new Date().toISOString().slice(0, 10)}.\n\n\`\`\`\n${lines.join('\n')}\n\`\`\`\n`,
  );
}
