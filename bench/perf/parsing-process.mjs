// The least a Node proxy that reads its requests costs on this machine, for bench/perf.ts: the
// byte pass-through (passthrough-process.mjs) plus the floor's work on each request: the body
// parsed (JSON.parse), written again (JSON.stringify, which is what goes upstream) and hashed
// (SHA-256). No translation, no cache, no checks. A proxy that translates or caches does at
// least this, so its CPU per request here is the lowest such a proxy reaches at that minute.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { answerFloor } from './floor.mjs';

const { upstream } = JSON.parse(process.argv[2]);
const pool = new Pool(upstream, { connections: 64 });

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    createHash('sha256').update(raw).digest('hex');
    const request = JSON.parse(raw.toString());
    const answer = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(request),
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
