import { positiveNumberOption, stringOption, z } from '../../src/plugin.js';

/** `["telemetry", {...}]`: each option overrides the standard `OTEL_*` variable it names. */
export const telemetryOptions = z.strictObject({
  /** OTLP/HTTP base URL (`/v1/traces` is added), as `OTEL_EXPORTER_OTLP_ENDPOINT`. Default `http://127.0.0.1:4318` (Jaeger). */
  endpoint: stringOption.refine((url) => url === undefined || /^https?:\/\//.test(url), 'must be an http:// or https:// URL').optional(),
  /** `http/protobuf` (default) or `http/json`, as `OTEL_EXPORTER_OTLP_PROTOCOL`. */
  protocol: z.enum(['http/protobuf', 'http/json'], { error: 'must be "http/protobuf" or "http/json"' }).optional(),
  /** As `OTEL_SERVICE_NAME`. Default `llm-proxy`. */
  serviceName: stringOption.optional(),
  /** How often finished spans are sent, ms. Default 2000. */
  exportIntervalMs: positiveNumberOption.optional(),
  /** Spans kept while the collector is slow or down; more are dropped (and counted). Default 2048. */
  maxQueueSize: positiveNumberOption.optional(),
  /** A plugin tap that takes this long or more gets a span of its own, ms. Default 1. */
  tapSpanMs: positiveNumberOption.optional(),
});

export type TelemetryOptions = z.input<typeof telemetryOptions>;
