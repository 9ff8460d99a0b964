import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type Sampler } from '@opentelemetry/sdk-trace';
import type { Logger } from '../../src/plugin.js';

export const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type SamplerName = (typeof SAMPLERS)[number];

/**
 * The sampler `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` name (the SDK's tracer provider
 * no longer reads them itself), or the plugin's `sampler` / `sampleRatio`, which win. Default
 * `parentbased_always_on`: every request traced, and an incoming `traceparent`'s decision kept.
 */
export function samplerFor(options: { sampler?: SamplerName; sampleRatio?: number }, logger: Logger): Sampler {
  const fromEnv = process.env.OTEL_TRACES_SAMPLER?.trim().toLowerCase();
  let name: SamplerName = options.sampler ?? 'parentbased_always_on';
  if (options.sampler === undefined && fromEnv) {
    if ((SAMPLERS as readonly string[]).includes(fromEnv)) name = fromEnv as SamplerName;
    else logger.warn(`telemetry: OTEL_TRACES_SAMPLER="${fromEnv}" is not one of ${SAMPLERS.join(', ')}; using parentbased_always_on`);
  }
  const ratio = () => {
    if (options.sampleRatio !== undefined) return options.sampleRatio;
    const raw = process.env.OTEL_TRACES_SAMPLER_ARG?.trim();
    const value = raw ? Number(raw) : 1;
    if (Number.isFinite(value) && value >= 0 && value <= 1) return value;
    logger.warn(`telemetry: OTEL_TRACES_SAMPLER_ARG="${raw}" is not a ratio from 0 to 1; sampling every trace`);
    return 1;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
  }
}
