// The least any Node proxy costs on this machine, for bench/perf.ts: node:http in, the body's
// bytes forwarded as they came (nothing parsed, translated or hashed) through an undici pool, and
// the upstream's answer piped back. No real proxy can do less for a request; what llm-proxy costs
// above it is parsing, translation, caching and its features.
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { answerFloor } from './floor.mjs';

const { upstream } = JSON.parse(process.argv[2]);
const pool = new Pool(upstream, { connections: 64 });

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const answer = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
    });
    res.writeHead(answer.statusCode, { 'content-type': answer.headers['content-type'] ?? 'application/json' });
    for await (const piece of answer.body) res.write(piece);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
process.on('message', (message) => {
  if (message === 'stats') process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage.rss() });
  answerFloor(message);
  if (message === 'close') server.close(() => process.exit(0));
});
