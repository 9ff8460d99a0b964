import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisCache } from '../redis-cache/index.js';
import { semanticCache } from '../semantic-cache/index.js';
import { telemetry } from './index.js';
import { ask, cachePlugins, post, until } from '../../tests/support/cache.js';
import { startFakeEmbeddings, type FakeEmbeddings } from '../../tests/support/fake-embeddings.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import { attribute, spanArrived, startReceiver, type OtlpReceiver } from '../../tests/support/otlp-receiver.js';
import { openaiBackend, postMessages, startProxy } from '../../tests/support/proxy.js';
import { redisPresent, redisRequired, startRedis, type RedisServer } from '../../tests/support/redis.js';
import { openaiEmbedder } from '../../tests/support/semantic.js';

const hello = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user' as const, content: 'hi' }] };

describe.skipIf(!redisPresent && !redisRequired)('telemetry: the Redis commands and embedding calls a request makes', () => {
  let redis: RedisServer;
  let embeddings: FakeEmbeddings;
  let upstream: FakeUpstream;
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    [redis, embeddings, upstream, receiver] = await Promise.all([startRedis(), startFakeEmbeddings(), startFakeUpstream(), startReceiver()]);
  });
  afterAll(async () => {
    await Promise.all([upstream?.close(), embeddings?.close(), redis?.stop(), receiver?.close()]);
  });

  it('are spans of that request, under the hook phase they ran in, with no key or prompt', async () => {
    const px = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url) },
      plugins: cachePlugins([
        redisCache({ url: redis.url }),
        semanticCache({ url: redis.url, embedder: openaiEmbedder(embeddings.url) }),
        telemetry({ endpoint: receiver.url, protocol: 'http/json', exportIntervalMs: 50 }),
      ]),
    });
    try {
      upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('the answer') });
      expect((await post(px.url, ask('WHICH FILE HOLDS THE KERNEL?'))).cache).toBe('miss');
      // The stores run after the answer (respond): their commands are spans of the request too.
      await until(async () => receiver.spans().some((s) => s.name === 'redis SET'), 'the Redis store span');
      await spanArrived(receiver, 'POST /v1/messages');
    } finally {
      await px.close();
    }
    const spans = receiver.spans();
    const server = spans.find((s) => s.name === 'POST /v1/messages');
    const lookup = spans.find((s) => s.name === 'cacheLookup');
    const get = spans.find((s) => s.name === 'redis GET');
    expect(lookup?.parentSpanId).toBe(server?.spanId);
    expect(get?.parentSpanId).toBe(lookup?.spanId);
    expect(get?.traceId).toBe(server?.traceId);
    expect(get?.kind).toBe(3);
    expect(attribute(get, 'db.system.name')).toBe('redis');
    expect(Number(attribute(get, 'server.port'))).toBe(redis.port);
    const set = spans.find((s) => s.name === 'redis SET');
    expect(set?.traceId).toBe(server?.traceId);
    const embedding = spans.find((s) => s.name === 'embedding');
    expect(embedding?.parentSpanId).toBe(lookup?.spanId);
    expect(attribute(embedding, 'gen_ai.operation.name')).toBe('embeddings');
    // Commands no request made (connection checks, pings) are no spans: every span is of this trace.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([server?.traceId]));
    expect(receiver.bodies.join('\n')).not.toContain('WHICH FILE HOLDS THE KERNEL');
  });
});

describe('telemetry: sampling as the OTEL_TRACES_SAMPLER variables or the options say', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('sampled or not') });
  });
  afterAll(() => upstream?.close());

  /** The span names a proxy with these options and environment exports for two requests, one continuing a sampled traceparent. */
  async function exported(options: Parameters<typeof telemetry>[0], env: Record<string, string> = {}): Promise<{ plain: boolean; continued: boolean }> {
    const receiver = await startReceiver();
    const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
    Object.assign(process.env, env);
    const px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [telemetry({ endpoint: receiver.url, protocol: 'http/json', exportIntervalMs: 20, ...options })] });
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    try {
      expect((await postMessages(px.url, hello)).status).toBe(200);
      expect((await postMessages(px.url, hello, { traceparent: `00-${traceId}-b7ad6b7169203331-01` })).status).toBe(200);
    } finally {
      // Closing flushes every finished span: what is not at the receiver then was not sampled.
      await px.close();
      await receiver.close();
    }
    const servers = receiver.spans().filter((s) => s.name === 'POST /v1/messages');
    return { plain: servers.some((s) => s.traceId !== traceId), continued: servers.some((s) => s.traceId === traceId) };
  }

  it('traces every request by default, and keeps an incoming decision', async () => {
    expect(await exported({})).toEqual({ plain: true, continued: true });
  });

  it('OTEL_TRACES_SAMPLER=always_off traces nothing; parentbased_always_off only what a sampled parent asks for', async () => {
    expect(await exported({}, { OTEL_TRACES_SAMPLER: 'always_off' })).toEqual({ plain: false, continued: false });
    expect(await exported({}, { OTEL_TRACES_SAMPLER: 'parentbased_always_off' })).toEqual({ plain: false, continued: true });
    expect(await exported({}, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' })).toEqual({ plain: false, continued: false });
  });

  it('the options win over the variables', async () => {
    expect(await exported({ sampler: 'always_on' }, { OTEL_TRACES_SAMPLER: 'always_off' })).toEqual({ plain: true, continued: true });
    expect(await exported({ sampler: 'parentbased_traceidratio', sampleRatio: 0 }, { OTEL_TRACES_SAMPLER: 'always_on' })).toEqual({ plain: false, continued: true });
  });

  it('a sampler name it does not know is said at start-up, and every request is traced', async () => {
    const receiver = await startReceiver();
    process.env.OTEL_TRACES_SAMPLER = 'sometimes';
    const px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [telemetry({ endpoint: receiver.url, exportIntervalMs: 20 })] });
    delete process.env.OTEL_TRACES_SAMPLER;
    try {
      const said = px.logs.map((line) => (JSON.parse(line) as { msg: string }).msg);
      expect(said.some((msg) => msg.includes('OTEL_TRACES_SAMPLER="sometimes"') && msg.includes('parentbased_always_on'))).toBe(true);
      expect((await postMessages(px.url, hello)).status).toBe(200);
      await spanArrived(receiver, 'POST /v1/messages');
    } finally {
      await px.close();
      await receiver.close();
    }
  });
});

describe('telemetry: a collector that takes the connection and never answers', () => {
  let upstream: FakeUpstream;
  let hole: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('answered anyway') });
    hole = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', () => undefined);
    });
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => hole.close(() => resolve()));
    await upstream?.close();
  });

  it('fails no request; the spans it cannot take are dropped and counted in /metrics', async () => {
    const { port } = hole.address() as AddressInfo;
    const px = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url) },
      plugins: [telemetry({ endpoint: `http://127.0.0.1:${port}`, exportIntervalMs: 10, maxQueueSize: 4 })],
    });
    try {
      // The first batch hangs in its export; the queue behind it holds 4 spans, and each request finishes several.
      await until(async () => {
        expect((await postMessages(px.url, hello)).status).toBe(200);
        return sockets.size > 0;
      }, 'an export to the black hole');
      for (let i = 0; i < 5; i++) expect((await postMessages(px.url, hello)).status).toBe(200);
      const scrape = await (await fetch(`${px.url}/metrics`)).text();
      const dropped = Number(/^llm_proxy_trace_spans_total\{result="dropped"\} (\d+)$/m.exec(scrape)?.[1]);
      expect(dropped).toBeGreaterThan(0);
    } finally {
      await px.close();
    }
  });
});
