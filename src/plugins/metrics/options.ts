import { z } from 'zod';
import { booleanOption } from '../../plugin-kit/plugin-options.js';

/** `["metrics", {...}]`. */
export const metricsOptions = z.strictObject({
  /** Where Prometheus scrapes. Default `/metrics`. */
  path: z.string().regex(/^\/[\w./-]*$/, 'must be a path such as /metrics').optional(),
  /** The process figures (CPU, memory, event loop, handles) with the `llm_proxy_` prefix. Default true. */
  processMetrics: booleanOption.optional(),
});

export type MetricsOptions = z.input<typeof metricsOptions>;
