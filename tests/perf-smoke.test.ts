// The benchmark's smoke (issue 13): the proxy's CPU per request on Claude Code's 76 KB request,
// as a ratio against calling the same fast upstream directly, in this one process. It fails only
// on a gross regression; the full figures come from `npm run bench` (bench/perf.ts).
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pool } from 'undici';
import { createProxy, type Proxy } from '../src/index.js';
import { toOpenAIRequest } from '../src/openai/request.js';
import type { MessagesRequest } from '../src/anthropic/types.js';
import { fixturesPresent, fixturesRequired, loadFixture } from './support/fixtures.js';

/**
 * The proxy's own CPU per request may be this many times what the load generator and the upstream
 * together spend on a direct request. On the 2-core machine the target (1 ms) is about 3 times
 * the direct cost, main measures 4-6 (single rounds 3-9 while other tests run), and this bound
 * is about four times the target: it catches a regression that triples the cost, not noise.
 */
const GROSS = 12;
const ROUNDS = 9;
const PER_ROUND = 80;
const CONCURRENCY = 4;

const chunk = (delta: object, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-smoke', object: 'chat.completion.chunk', created: 1764547200, model: 'smoke', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const STREAM = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'pong' }), chunk({}, 'stop'), 'data: [DONE]\n\n'].join('');

describe.skipIf(!fixturesPresent && !fixturesRequired)('the proxy’s CPU per request against the upstream called directly', () => {
  let upstream: Server;
  let upstreamUrl: string;
  let proxy: Proxy;
  let proxyUrl: string;

  beforeAll(async () => {
    upstream = createServer({ keepAlive: true }, (req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(STREAM);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    const address = upstream.address();
    upstreamUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    proxy = await createProxy({ logLevel: 'warn', backend: 'gpu', backends: { gpu: { type: 'openai', url: `${upstreamUrl}/v1`, model: 'smoke', cache: false } } });
    proxyUrl = await proxy.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await proxy?.close();
    await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
  });

  it(`stays under ${GROSS} times the direct request's cost`, async () => {
    const request = { ...(loadFixture('pong-turn1').body as unknown as MessagesRequest), stream: true };
    const targets = {
      direct: { pool: new Pool(upstreamUrl, { connections: CONCURRENCY }), path: '/v1/chat/completions', body: JSON.stringify(toOpenAIRequest(request, { model: 'smoke', stream: true })) },
      proxy: { pool: new Pool(proxyUrl, { connections: CONCURRENCY }), path: '/v1/messages', body: JSON.stringify(request) },
    };
    const send = async (target: (typeof targets)['direct']): Promise<void> => {
      const response = await target.pool.request({ method: 'POST', path: target.path, headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' }, body: target.body });
      const text = await response.body.text();
      if (response.statusCode !== 200 || !/\[DONE\]|message_stop/.test(text)) throw new Error(`HTTP ${response.statusCode}: ${text.slice(0, 300)}`);
    };
    /** CPU ms per request of one batch. */
    const batch = async (target: (typeof targets)['direct']): Promise<number> => {
      const before = process.cpuUsage();
      let sent = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (sent < PER_ROUND) {
            sent++;
            await send(target);
          }
        }),
      );
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000 / PER_ROUND;
    };
    await batch(targets.direct);
    await batch(targets.proxy);
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const first = round % 2 === 0 ? 'direct' : 'proxy';
      const a = await batch(targets[first]);
      const b = await batch(targets[first === 'direct' ? 'proxy' : 'direct']);
      const [direct, proxied] = first === 'direct' ? [a, b] : [b, a];
      ratios.push((proxied - direct) / direct);
    }
    await Promise.all([targets.direct.pool.close(), targets.proxy.pool.close()]);
    const median = [...ratios].sort((x, y) => x - y)[Math.floor(ROUNDS / 2)]!;
    console.log(`proxy CPU per request: ${median.toFixed(1)}× the direct request's (rounds: ${ratios.map((r) => r.toFixed(1)).join(', ')})`);
    expect(median).toBeLessThan(GROSS);
  });
});
