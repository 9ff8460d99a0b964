import { booleanOption, positiveNumberOption, z } from '../../src/plugin.js';
import { redisConnectionShape } from '../redis-cache/options.js';

/** `["rate-limit-advisor", {...}]`. */
export const rateLimitAdvisorOptions = z.strictObject({
  /** Warn (log line and `x-llm-proxy-warning`) before a request the known quota cannot cover. Default true. */
  warnBeforeRequest: booleanOption.optional(),
  /** With a Redis (this option or the redis-cache plugin's): how often the limits other proxies recorded are read from it, ms. Default 2000. */
  syncIntervalMs: positiveNumberOption.optional(),
  /**
   * Share the limits through this Redis without the redis-cache plugin: `true` (`REDIS_URL`, ...)
   * or the connection options redis-cache takes (`url`, `password`, `tls`, `cluster`, ...).
   */
  redis: z.union([z.literal(true), z.strictObject(redisConnectionShape)], { error: 'must be true or Redis connection options ({ url, ... })' }).optional(),
});

export type RateLimitAdvisorOptions = z.input<typeof rateLimitAdvisorOptions>;
