import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from '../../tests/support/proxy.js';
import type { TapOnlyHooks } from '../../src/plugin.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

// The official OTLP message definitions, as protobufjs code generated from opentelemetry-proto
// (an older @opentelemetry/otlp-transformer ships it; a dev dependency, aliased).
interface Decoded {
  resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<Omit<OtlpSpan, 'traceId' | 'spanId' | 'parentSpanId'> & { traceId: Uint8Array; spanId: Uint8Array; parentSpanId?: Uint8Array }> }> }>;
}
type RequestType = { decode(bytes: Uint8Array): unknown; toObject(message: unknown, options: { longs: StringConstructor; defaults: boolean }): Decoded };
const generated = createRequire(import.meta.url)('otlp-generated-definitions/build/src/generated/root.js') as {
  opentelemetry: { proto: { collector: { trace: { v1: { ExportTraceServiceRequest: RequestType } } } } };
};
const ExportTraceServiceRequest = generated.opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest;
const hex = (bytes: Uint8Array | undefined) => (bytes && bytes.length > 0 ? Buffer.from(bytes).toString('hex') : undefined);

/** A protobuf export as the JSON encoding has it (ids in hex), and its text for searching. */
function fromProtobuf(body: Buffer): string {
  const decoded = ExportTraceServiceRequest.toObject(ExportTraceServiceRequest.decode(body), { longs: String, defaults: false });
  const resourceSpans = decoded.resourceSpans.map((r) => ({
    scopeSpans: r.scopeSpans.map((scope) => ({
      spans: scope.spans.map((span) => ({ ...span, traceId: hex(span.traceId), spanId: hex(span.spanId), parentSpanId: hex(span.parentSpanId) })),
    })),
  }));
  return JSON.stringify({ resourceSpans });
}

/** A real OTLP/HTTP receiver (protobuf and JSON): what the exporter sends, decoded. */
async function startReceiver(): Promise<{ url: string; bodies: string[]; contentTypes: string[]; spans(): OtlpSpan[]; close(): Promise<void> }> {
  const bodies: string[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = String(req.headers['content-type']);
      if (req.url === '/v1/traces') {
        contentTypes.push(type);
        // The raw bytes too: no secret may hide in them whatever the decoding.
        bodies.push(type.includes('protobuf') ? `${fromProtobuf(body)}\n${body.toString('latin1')}` : body.toString('utf8'));
      }
      res.writeHead(200, { 'content-type': type.includes('protobuf') ? 'application/x-protobuf' : 'application/json' });
      res.end(type.includes('protobuf') ? Buffer.alloc(0) : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    bodies,
    contentTypes,
    spans: () =>
      bodies.flatMap((body) => {
        const request = JSON.parse(body.split('\n')[0]!) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        return request.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
      }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const attribute = (span: OtlpSpan | undefined, key: string): unknown => {
  const value = span?.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

describe('telemetry: a trace per request, exported by OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    receiver = await startReceiver();
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url, { apiKey: 'sk-gpu-SECRET-0123456789' }) },
      plugins: [['telemetry', { endpoint: receiver.url, protocol: 'http/json', exportIntervalMs: 50 }]],
    });
  });

  it('exports protobuf by default, decoded with the official OTLP definitions', async () => {
    const own = await startReceiver();
    const traced = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [['telemetry', { endpoint: own.url, exportIntervalMs: 50 }]] });
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('protobuf answer') });
    expect((await postMessages(traced.url, { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !own.spans().some((s) => s.name === 'POST /v1/messages')) await new Promise((resolve) => setTimeout(resolve, 50));
    await traced.close();
    await own.close();
    expect(own.contentTypes[0]).toBe('application/x-protobuf');
    const server = own.spans().find((s) => s.name === 'POST /v1/messages');
    expect(server?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(attribute(server, 'gen_ai.request.model')).toBe('claude-haiku-4-5');
    expect(own.spans().find((s) => s.name === 'upstream')?.parentSpanId).toBe(server?.spanId);
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
    await receiver?.close();
  });

  it('continues the incoming traceparent, names the backend and the session, and carries no prompt or key', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('traced answer', { usage: { prompt_tokens: 9, completion_tokens: 2 } }) });
    const res = await postMessages(
      px.url,
      { model: 'claude-sonnet-4-5', max_tokens: 30, stream: true, messages: [{ role: 'user', content: 'A PROMPT THAT MUST NOT BE TRACED' }] },
      { traceparent: `00-${traceId}-${parentId}-01`, 'x-claude-code-session-id': 'session-7f3a', 'x-api-key': 'client-key-SECRET' },
    );
    expect(res.status).toBe(200);

    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !receiver.spans().some((s) => s.name === 'POST /v1/messages')) await new Promise((resolve) => setTimeout(resolve, 50));
    const spans = receiver.spans();
    const server = spans.find((s) => s.name === 'POST /v1/messages');
    const call = spans.find((s) => s.name === 'upstream');
    expect(server?.traceId).toBe(traceId);
    expect(server?.parentSpanId).toBe(parentId);
    expect(server?.kind).toBe(2);
    expect(attribute(server, 'gen_ai.request.model')).toBe('claude-sonnet-4-5');
    expect(attribute(server, 'gen_ai.response.model')).toBe('qwen3-coder:30b');
    expect(attribute(server, 'llm_proxy.backend')).toBe('gpu');
    expect(attribute(server, 'session.id')).toBe('session-7f3a');
    expect(attribute(server, 'llm_proxy.cache.status')).toBe('miss');
    expect(Number(attribute(server, 'gen_ai.usage.output_tokens'))).toBe(2);
    expect(attribute(server, 'llm_proxy.time_to_first_token_ms')).toBeDefined();
    expect(call?.traceId).toBe(traceId);
    expect(call?.parentSpanId).toBe(server?.spanId);
    expect(call?.kind).toBe(3);
    const sent = receiver.bodies.join('\n');
    expect(sent).not.toContain('A PROMPT THAT MUST NOT BE TRACED');
    expect(sent).not.toContain('SECRET');
  });

  it('a plugin tap that takes time gets a span of its own under the request', async () => {
    const own = await startReceiver();
    const slowTap = {
      name: 'slow-plugin',
      apply({ hooks }: { hooks: TapOnlyHooks }) {
        hooks.transform.tapPromise('slow-plugin', async (exchange) => {
          // A plugin that does something slow before the request goes upstream.
          if (exchange.phase === 'request') await new Promise((resolve) => setTimeout(resolve, 20));
          return exchange;
        });
      },
    };
    const traced = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url) },
      plugins: [['telemetry', { endpoint: own.url, exportIntervalMs: 50 }], slowTap],
    });
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('after the slow tap') });
    expect((await postMessages(traced.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && !own.spans().some((s) => s.name === 'POST /v1/messages')) await new Promise((resolve) => setTimeout(resolve, 50));
    await traced.close();
    await own.close();
    const server = own.spans().find((s) => s.name === 'POST /v1/messages');
    const tap = own.spans().find((s) => s.name === 'transform slow-plugin');
    expect(tap?.parentSpanId).toBe(server?.spanId);
    expect(attribute(tap, 'llm_proxy.plugin')).toBe('slow-plugin');
  });

  it('a collector that is down fails nothing: the request is answered, and the proxy closes', async () => {
    const { freePort } = await import('../../tests/support/free-port.js');
    const gone = `http://127.0.0.1:${await freePort()}`;
    const lonely = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url) },
      plugins: [['telemetry', { endpoint: gone, exportIntervalMs: 20 }]],
    });
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('answered anyway') });
    const res = await postMessages(lonely.url, { model: 'claude-sonnet-4-5', max_tokens: 30, messages: [{ role: 'user', content: 'hello' }] });
    expect(res.status).toBe(200);
    await lonely.close();
  });
});

