// The least any Node proxy costs on this machine, for bench/perf.ts: node:http in, the body's
// bytes forwarded as they came (nothing parsed, translated or hashed) through an undici pool, and
// the upstream's answer piped back. No real proxy can do less for a request; what llm-proxy costs
// above it is parsing, translation, caching and its features.
import { forwardingServer, serveForBench } from './bench-server.mjs';

const { upstream } = JSON.parse(process.argv[2]);
serveForBench(forwardingServer(upstream, (raw) => raw));
