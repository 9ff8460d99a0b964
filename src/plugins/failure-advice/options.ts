import { z } from 'zod';

const MS = 'must be a positive number of milliseconds';
const positiveMs = z.number({ error: MS }).positive(MS);

/** `["failure-advice", {...}]`; an unknown key is ignored. */
export const failureAdviceOptions = z.object({
  /** How long one health probe of another backend may take. Default 1500 ms. */
  probeTimeoutMs: positiveMs.optional(),
  /** How long a probe's answer is reused. Default 15 000 ms. */
  cacheMs: positiveMs.optional(),
  /** False with `failover: "off"`: errors say what failed, not where to switch. Default true. */
  enabled: z.boolean({ error: 'must be true or false' }).optional(),
});

export type FailureAdviceOptions = z.input<typeof failureAdviceOptions>;
