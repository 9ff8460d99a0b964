// The proxy under bench/perf.ts, alone in its process (plain node, the built dist), so its CPU
// is its own. The config comes as JSON in argv[2]; it reports CPU and memory over IPC.
const dist = process.env.BENCH_PROXY_DIST ?? new URL('../../dist', import.meta.url).pathname;
const { createProxy } = await import(`${dist}/src/proxy.js`);
const proxy = await createProxy({ logLevel: 'warn', ...JSON.parse(process.argv[2]) });
const url = await proxy.listen(0, '127.0.0.1');
const { answerFloor } = await import('./floor.mjs');
process.on('message', (message) => {
  if (message === 'stats') process.send({ cpu: process.cpuUsage(), rss: process.memoryUsage.rss() });
  answerFloor(message);
  if (message === 'close') void proxy.close().then(() => process.exit(0));
});
process.send({ url });
