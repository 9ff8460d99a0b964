// Load generator for the memory benchmark, in its own process: on {url, count, round} it opens
// `count` streaming requests at once, each a copy of the captured Claude Code request with its
// own prompt (so the cache neither answers nor merges them), reads each stream to the end and
// reports how many completed.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';

interface Job {
  url: string;
  count: number;
  round: number;
  rampMs: number;
}

const fixture = process.env.BENCH_BODY ?? fileURLToPath(new URL('../../../shared/fixtures/claude-code/pong-turn1.json', import.meta.url));
const template = JSON.parse(readFileSync(fixture, 'utf8')) as { messages: Array<{ role: string; content: unknown }> };
const agent = new Agent({ connections: null, pipelining: 1, keepAliveTimeout: 60_000 });

/** The fixture with its last user text made unique; the same size within a few bytes. */
function bodyFor(round: number, i: number): string {
  const copy = structuredClone(template);
  const last = copy.messages.findLast((m) => m.role === 'user');
  if (last) {
    const tag = `[bench ${round}-${i}] `;
    if (typeof last.content === 'string') last.content = tag + last.content;
    else if (Array.isArray(last.content)) last.content.push({ type: 'text', text: tag });
  }
  return JSON.stringify({ ...copy, stream: true });
}

async function one(url: string, body: string): Promise<boolean> {
  const res = await request(`${url}/v1/messages?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'bench' },
    body,
    dispatcher: agent,
  });
  let tail = '';
  for await (const chunk of res.body) tail = (tail + (chunk as Buffer).toString('utf8')).slice(-200);
  return res.statusCode === 200 && tail.includes('message_stop');
}

process.on('message', (job: Job) => {
  void (async () => {
    const started = Date.now();
    const bodies = Array.from({ length: job.count }, (_, i) => bodyFor(job.round, i));
    // Started evenly over rampMs (0: all at once), so the proxy's memory is that of open streams, not of a burst of uploads.
    const results = await Promise.allSettled(
      bodies.map(async (body, i) => {
        await new Promise((resolve) => setTimeout(resolve, (job.rampMs * i) / job.count));
        return one(job.url, body);
      }),
    );
    const ok = results.filter((r) => r.status === 'fulfilled' && r.value).length;
    const firstError = results.find((r) => r.status === 'rejected');
    process.send?.({ ok, failed: job.count - ok, ms: Date.now() - started, error: firstError ? String(firstError.reason) : undefined });
  })();
});
process.send?.({ ready: true });
