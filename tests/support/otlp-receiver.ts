// A real OTLP/HTTP trace receiver for the tests: decodes what an exporter sends, protobuf (with
// the official OTLP message definitions) and JSON.

import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  /** Nanoseconds since the epoch, as a decimal string. */
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  status?: { code?: number; message?: string };
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
export interface OtlpReceiver {
  url: string;
  /** Every export, of any signal, as it arrived. */
  received: Array<{ path: string; contentType: string; headers: Record<string, string | string[] | undefined>; body: Buffer }>;
  /** The trace exports, decoded to JSON text (then, for protobuf, the raw bytes). */
  bodies: string[];
  contentTypes: string[];
  spans(): OtlpSpan[];
  close(): Promise<void>;
}

export async function startReceiver(): Promise<OtlpReceiver> {
  const bodies: string[] = [];
  const contentTypes: string[] = [];
  const received: OtlpReceiver['received'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = String(req.headers['content-type']);
      received.push({ path: req.url ?? '', contentType: type, headers: req.headers, body });
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
    received,
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

export const attribute = (span: OtlpSpan | undefined, key: string): unknown => {
  const value = span?.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
};

/** Waits until a span named `name` arrived. */
export async function spanArrived(receiver: OtlpReceiver, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!receiver.spans().some((s) => s.name === name)) {
    if (Date.now() > deadline) throw new Error(`no span "${name}" arrived within 10 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
