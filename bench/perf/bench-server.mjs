// What the calibrating processes of bench/perf.ts share: listening and answering bench/perf.ts
// over IPC (its URL first, then CPU and memory, the floor, close), and the pass-throughs' server.
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { answerFloor } from './floor.mjs';

/** Listens on a free loopback port, tells bench/perf.ts its URL, and answers its messages. */
export function serveForBench(server) {
  server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
  process.on('message', (message) => {
    if (message === 'stats') process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage.rss() });
    answerFloor(message);
    if (message === 'close') server.close(() => process.exit(0));
  });
}

/** node:http in, `bodyOf(the request's bytes)` sent to the upstream through an undici pool, its answer piped back. */
export function forwardingServer(upstream, bodyOf) {
  const pool = new Pool(upstream, { connections: 64 });
  return createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    const chunks = [];
    req.on('data', (chunk) => chunks.push(chunk));
    req.on('end', async () => {
      const answer = await pool.request({
        method: 'POST',
        path: '/v1/chat/completions',
        headers: { 'content-type': 'application/json' },
        body: bodyOf(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)),
      });
      res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
      for await (const piece of answer.body) res.write(piece);
      res.end();
    });
  });
}
