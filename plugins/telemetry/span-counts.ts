import { createNoopMeter, type Attributes, type Counter, type Meter, type MeterProvider } from '@opentelemetry/api';

/** What became of the spans the proxy finished: sent to the collector, dropped (queue full), or lost in a failed export. */
export interface SpanCounts {
  exported: number;
  dropped: number;
  failed: number;
}

const PROCESSED = 'otel.sdk.processor.span.processed';

/**
 * The batch processor's own self-observability (`otel.sdk.processor.span.processed`, with
 * `error.type` `queue_full` for a drop), counted in plain numbers: the proxy has no OTel meter
 * pipeline, and status and `/metrics` read them. Every other SDK instrument stays a no-op.
 */
export function spanCounter(): { counts: SpanCounts; meterProvider: MeterProvider } {
  const counts: SpanCounts = { exported: 0, dropped: 0, failed: 0 };
  const noop = createNoopMeter();
  const processed: Counter = {
    add(value: number, attributes?: Attributes) {
      const error = attributes?.['error.type'];
      if (error === undefined) counts.exported += value;
      else if (error === 'queue_full') counts.dropped += value;
      else counts.failed += value;
    },
  };
  const meter: Meter = Object.assign(Object.create(noop) as Meter, {
    createCounter: (name: string, options?: Parameters<Meter['createCounter']>[1]) => (name === PROCESSED ? processed : noop.createCounter(name, options)),
  });
  return { counts, meterProvider: { getMeter: () => meter } };
}
