import { positiveNumberOption, stringOption, z } from '../../src/plugin.js';
import { SIGNALS } from './claude-code.js';
import { SAMPLERS } from './sampler.js';

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
  /** As `OTEL_TRACES_SAMPLER`. Default `parentbased_always_on`. */
  sampler: z.enum(SAMPLERS, { error: `must be one of ${SAMPLERS.join(', ')}` }).optional(),
  /** The ratio of the `traceidratio` samplers, 0 to 1, as `OTEL_TRACES_SAMPLER_ARG`. */
  sampleRatio: z.number({ error: 'must be a number from 0 to 1' }).min(0, 'must be from 0 to 1').max(1, 'must be from 0 to 1').optional(),
  /**
   * Take Claude Code's own OTLP exports on the proxy's port and forward them to the same collector:
   * `true` for traces, metrics and logs, or `{ signals: ["traces"] }` (Jaeger takes traces only).
   */
  claudeCode: z
    .union([z.boolean(), z.strictObject({ signals: z.array(z.enum(SIGNALS, { error: `must be one of ${SIGNALS.join(', ')}` })).min(1, 'must name a signal').optional() })], {
      error: 'must be true, false or { signals: [...] }',
    })
    .optional(),
  /** Put the request's new turn and the answer on its span (`gen_ai.input.messages`, `gen_ai.output.messages`, 16 KB each at most). Off: no prompt, completion or tool text is ever traced. */
  captureContent: z.boolean({ error: 'must be true or false' }).optional(),
  /** A hook phase that takes this long or more gets a span of its own (every phase's time is on the request's span), ms. Default 0.5; 0 for a span per phase. */
  phaseSpanMs: z.number({ error: 'must be a number of milliseconds' }).min(0, 'must be 0 or more').optional(),
  /** A plugin tap that takes this long or more gets a span of its own, ms. Default 1. */
  tapSpanMs: positiveNumberOption.optional(),
});

export type TelemetryOptions = z.input<typeof telemetryOptions>;
