import { booleanOption, positiveNumberOption, z } from '../../src/plugin.js';

/** `["rate-limit-advisor", {...}]`. */
export const rateLimitAdvisorOptions = z.strictObject({
  /** Warn (log line and `x-llm-proxy-warning`) before a request the known quota cannot cover. Default true. */
  warnBeforeRequest: booleanOption.optional(),
  /** With the redis-cache plugin: how often the limits other proxies recorded are read from Redis, ms. Default 2000. */
  syncIntervalMs: positiveNumberOption.optional(),
});

export type RateLimitAdvisorOptions = z.input<typeof rateLimitAdvisorOptions>;
