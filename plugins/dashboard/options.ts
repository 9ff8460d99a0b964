import { positiveNumberOption, z } from '../../src/plugin.js';

/** `["dashboard", {...}]`. */
export const dashboardOptions = z.strictObject({
  /** Default: on when the proxy listens on loopback (127.0.0.1, localhost, ::1), off beyond it. */
  enabled: z.boolean({ error: 'must be true or false' }).optional(),
  /** Minutes of history the charts cover (kept in memory, fixed size). Default 60. */
  windowMinutes: positiveNumberOption.refine((n) => n === undefined || (Number.isInteger(n) && n <= 24 * 60), 'must be a whole number of minutes, at most 1440').optional(),
  /** Requests the table lists. Default 100. */
  requests: positiveNumberOption.refine((n) => n === undefined || (Number.isInteger(n) && n <= 10_000), 'must be a whole number, at most 10000').optional(),
  /** How often an open page gets fresh figures, ms. Default 2000. */
  refreshMs: positiveNumberOption.optional(),
});

export type DashboardOptions = z.input<typeof dashboardOptions>;
