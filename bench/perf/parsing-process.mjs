// The least a Node proxy that reads its requests costs on this machine, for bench/perf.ts: the
// byte pass-through (passthrough-process.mjs) plus the floor's work on each request: the body
// hashed (SHA-256), parsed (JSON.parse) and written again (JSON.stringify, which is what goes
// upstream). No translation, no cache, no checks. A proxy that translates or caches does at
// least this, so its CPU per request here is the lowest such a proxy reaches at that minute.
import { createHash } from 'node:crypto';
import { forwardingServer, serveForBench } from './bench-server.mjs';

const { upstream } = JSON.parse(process.argv[2]);
serveForBench(
  forwardingServer(upstream, (raw) => {
    createHash('sha256').update(raw).digest('hex');
    return JSON.stringify(JSON.parse(raw.toString()));
  }),
);
