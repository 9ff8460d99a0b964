import { z } from 'zod';
import { positiveNumberOption } from '../../plugin-kit/plugin-options.js';

const wholeNumber = z.number({ error: 'must be a whole number' }).int('must be a whole number').nonnegative('must be 0 or more');

/** `["backend-health", {...}]`. */
export const backendHealthOptions = z.strictObject({
  /** Consecutive failures of a backend that open its circuit; 0 never opens it on a streak. Default 5. */
  failureThreshold: wholeNumber.optional(),
  /** Or: this share of failures among the requests of the last `windowMs` (once there were `minRequests`). Default 0.5. */
  errorRatio: positiveNumberOption.max(1, 'must be a share between 0 and 1').optional(),
  /** Default 60000. */
  windowMs: positiveNumberOption.optional(),
  /** Default 10; 0 turns the ratio off. */
  minRequests: wholeNumber.optional(),
  /** How long an open circuit answers at once before it tries the backend again, ms. Default 15000. */
  cooldownMs: positiveNumberOption.optional(),
  /** Probe every backend this often, ms, and have /health report the last probe and its age. Default 30000; 0: no periodic probes, /health probes when asked. */
  probeIntervalMs: wholeNumber.optional(),
  /** With the redis-cache plugin: how often circuits other proxies opened or closed are read from Redis, ms. Default 2000. */
  syncIntervalMs: positiveNumberOption.optional(),
  /** Each probe's bound, ms. Default 5000. */
  probeTimeoutMs: positiveNumberOption.optional(),
});

export type BackendHealthOptions = z.input<typeof backendHealthOptions>;

export interface BreakerSettings {
  failureThreshold: number;
  errorRatio: number;
  windowMs: number;
  minRequests: number;
  cooldownMs: number;
}
