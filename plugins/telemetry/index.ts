import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type MeterProvider, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as ProtobufExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { parsePluginOptions, withInvoke, type Logger, type Outcome, type Plugin, type ProviderResponse, type ProxyContext, type UpstreamCall } from '../../src/plugin.js';
import { traceChannels } from './channel-spans.js';
import { forwardClaudeCode, SIGNALS, type Signal } from './claude-code.js';
import { closePhase, traceHooks } from './hook-spans.js';
import { recordInput, recordOutput } from './content.js';
import { fastIds } from './id-generator.js';
import { TraceCarrier } from './trace-carrier.js';
import { telemetryOptions, type TelemetryOptions } from './options.js';
import { samplerFor } from './sampler.js';
import { spanCounter, type SpanCounts } from './span-counts.js';

export { telemetryOptions, type TelemetryOptions } from './options.js';
export type { SpanCounts } from './span-counts.js';

export interface TelemetryApi {
  /** What became of the finished spans so far (exported, dropped because the queue was full, lost in failed exports). */
  spans(): SpanCounts;
  /** The signals of Claude Code's own telemetry the proxy takes and forwards (`claudeCode`); `llm-proxy env` and `code` point Claude Code at them. */
  readonly claudeCodeSignals: readonly Signal[];
}

declare module '../../src/plugin.js' {
  interface PluginApis {
    telemetry: TelemetryApi;
  }
  interface ContextState {
    /** The request's server span, and the context its children start in. */
    span?: { span: Span; context: Context };
  }
}

const CLOSE_WAIT_MS = 2000;
const SESSION_HEADER = 'x-claude-code-session-id';
const W3C = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: ProxyContext['headers']) => Object.keys(carrier),
  get: (carrier: ProxyContext['headers'], key: string) => carrier[key],
};

/**
 * First-party: OpenTelemetry traces of every Messages request, exported by OTLP/HTTP (protobuf or
 * JSON) to Jaeger or any collector. A server span per request (continuing an incoming W3C
 * `traceparent`), with GenAI attributes and the proxy's own (backend, endpoint, cache, failover
 * attempts, time to first token), and a client span for each upstream call. No prompt, completion
 * or tool text, and no secret, ever goes on a span. A collector that is down never slows a
 * request: spans wait in a bounded queue and are dropped when it is full.
 */
export function telemetry(options: TelemetryOptions = {}): Plugin {
  const checked = parsePluginOptions('telemetry', telemetryOptions, options);
  const disabled = /^true$/i.test(process.env.OTEL_SDK_DISABLED ?? '');
  const counter = spanCounter();
  const claudeCodeSignals = disabled || !checked.claudeCode ? [] : checked.claudeCode === true ? [...SIGNALS] : (checked.claudeCode.signals ?? [...SIGNALS]);
  let provider: TracerProvider | undefined;
  let unsubscribe: (() => void) | undefined;
  let forwarder: { close(): Promise<void> } | undefined;
  return {
    name: 'telemetry',
    api: { spans: () => ({ ...counter.counts }), claudeCodeSignals } satisfies TelemetryApi,
    apply({ hooks, providers, logger, status, router }) {
      if (disabled) {
        logger.info('telemetry: OTEL_SDK_DISABLED is set, no traces are exported or forwarded');
        return;
      }
      if (claudeCodeSignals.length > 0) forwarder = forwardClaudeCode({ router }, claudeCodeSignals, checked.endpoint, logger);
      provider = createProvider(checked, counter.meterProvider, logger);
      const tracer = provider.getTracer('llm-proxy');
      // The trace context each hook tap runs in, so a Redis command or an embedding call it makes is a span of its request.
      const carrier = new TraceCarrier();
      const thresholds = { phaseSpanMs: checked.phaseSpanMs ?? 0.5, tapSpanMs: checked.tapSpanMs ?? 1 };
      traceHooks(hooks, tracer, carrier, thresholds);
      unsubscribe = traceChannels(tracer, carrier);
      hooks.request.tap({ name: 'telemetry', stage: -3000 }, (ctx) => {
        start(tracer, ctx);
        if (checked.captureContent) recordInput(ctx.state.span!.span, ctx.body);
        // A synchronous tap runs in the request's own async flow: what the request does later outside
        // any tap (the cache's store once the answer ended, as the kernel writes it) is under its span too.
        carrier.enter(ctx.state.span!.context);
      });
      providers.decorate((backend) => withInvoke(backend, (call, invoke) => upstreamSpan(tracer, call, invoke)));
      if (checked.captureContent) {
        // Last, so it sees the answer as the client gets it.
        hooks.transform.tap({ name: 'telemetry', stage: 10_000 }, (exchange, ctx) => {
          const span = ctx.state.span?.span;
          return exchange.phase === 'response' && span?.isRecording() ? { phase: 'response', response: recordOutput(span, exchange.response) } : exchange;
        });
      }
      hooks.respond.tap('telemetry', (ctx, outcome) => end(tracer, ctx, outcome, thresholds.phaseSpanMs));
      status.add('telemetry', () => ({ status: 'ok', spans: { ...counter.counts } }));
    },
    async close() {
      unsubscribe?.();
      await forwarder?.close();
      // The last spans are flushed, but a collector that never answers does not hold the shutdown.
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS).unref()));
      await Promise.race([provider?.shutdown().catch(() => undefined), bounded]);
      clearTimeout(timer);
    },
  };
}

function createProvider(options: TelemetryOptions, meterProvider: MeterProvider, logger: Logger): TracerProvider {
  const protocol = options.protocol ?? (process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || process.env.OTEL_EXPORTER_OTLP_PROTOCOL || 'http/protobuf');
  // The exporters read OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT themselves; a URL here overrides them.
  const base = options.endpoint ?? (process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT ? undefined : 'http://127.0.0.1:4318');
  const url = base === undefined ? undefined : `${base.replace(/\/+$/, '')}/v1/traces`;
  const exporter = protocol === 'http/json' ? new JsonExporter(url ? { url } : {}) : new ProtobufExporter(url ? { url } : {});
  const serviceName = options.serviceName ?? (process.env.OTEL_SERVICE_NAME || 'llm-proxy');
  const resource = detectResources({ detectors: [envDetector] }).merge(resourceFromAttributes({ 'service.name': serviceName }));
  return new TracerProvider({
    resource,
    idGenerator: fastIds,
    sampler: samplerFor(options, logger),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter,
        selfObsMeterProvider: meterProvider,
        maxQueueSize: options.maxQueueSize ?? 2048,
        scheduledDelayMillis: options.exportIntervalMs ?? 2000,
        exportTimeoutMillis: 10_000,
      }),
    ],
  });
}

function start(tracer: Tracer, ctx: ProxyContext): void {
  const incoming = ctx.headers.traceparent === undefined ? ROOT_CONTEXT : W3C.extract(ROOT_CONTEXT, ctx.headers, headerGetter);
  const session = ctx.headers[SESSION_HEADER];
  const span = tracer.startSpan(
    ctx.endpoint === 'messages' ? 'POST /v1/messages' : 'POST /v1/messages/count_tokens',
    {
      kind: SpanKind.SERVER,
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': ctx.body.model,
        ...(typeof ctx.body.max_tokens === 'number' ? { 'gen_ai.request.max_tokens': ctx.body.max_tokens } : {}),
        'llm_proxy.request_id': ctx.id,
        'llm_proxy.stream': ctx.stream,
        ...(typeof session === 'string' ? { 'session.id': session } : {}),
      },
    },
    incoming,
  );
  ctx.state.span = { span, context: trace.setSpan(incoming, span) };
}

async function upstreamSpan(tracer: Tracer, call: UpstreamCall, invoke: (call: UpstreamCall) => Promise<ProviderResponse>): Promise<ProviderResponse> {
  const parent = call.context.state.span?.context;
  if (!parent) return invoke(call);
  const backend = call.context.route?.backend;
  const span = tracer.startSpan(
    'upstream',
    { kind: SpanKind.CLIENT, attributes: { 'llm_proxy.backend': backend?.name ?? '', 'gen_ai.provider.name': backend?.type ?? '', 'gen_ai.request.model': call.model } },
    parent,
  );
  try {
    const response = await invoke(call);
    span.end();
    return response;
  } catch (error) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error && 'code' in error ? String(error.code) : 'error' });
    span.end();
    throw error;
  }
}

function end(tracer: Tracer, ctx: ProxyContext, outcome: Outcome, phaseSpanMs: number): void {
  const held = ctx.state.span;
  if (!held) return;
  closePhase(tracer, ctx, phaseSpanMs);
  const { span } = held;
  if (!span.isRecording()) {
    span.end();
    return;
  }
  const backend = ctx.route?.backend;
  span.setAttributes({
    'http.response.status_code': outcome.status,
    'llm_proxy.cache.status': ctx.cache.status,
    'llm_proxy.failover.attempts': ctx.attempts.length,
    ...(backend ? { 'llm_proxy.backend': backend.name, 'gen_ai.provider.name': backend.type } : {}),
    ...(outcome.model ? { 'gen_ai.response.model': outcome.model } : {}),
    ...(outcome.messageId ? { 'gen_ai.response.id': outcome.messageId } : {}),
    ...(ctx.cache.tier ? { 'llm_proxy.cache.tier': ctx.cache.tier } : {}),
    ...(ctx.responseHeaders['x-llm-proxy-endpoint'] ? { 'llm_proxy.endpoint': ctx.responseHeaders['x-llm-proxy-endpoint'] } : {}),
    ...(outcome.usage ? { 'gen_ai.usage.input_tokens': outcome.usage.input_tokens ?? 0, 'gen_ai.usage.output_tokens': outcome.usage.output_tokens ?? 0 } : {}),
    ...(outcome.stopReason ? { 'gen_ai.response.finish_reasons': [outcome.stopReason] } : {}),
    ...(outcome.firstEventMs !== undefined ? { 'llm_proxy.time_to_first_token_ms': Math.round(outcome.firstEventMs) } : {}),
  });
  if (outcome.error) span.setStatus({ code: SpanStatusCode.ERROR, message: String(outcome.error.code) });
  span.end();
}

export default telemetry;
