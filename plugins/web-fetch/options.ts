import { positiveNumberOption, sizeOption, stringOption, z } from '../../src/plugin.js';
import { parseCidr } from './address-guard.js';
import type { HostResolver } from './fetch-page.js';

const cidr = z.string({ error: 'must be an IP address or CIDR range' }).superRefine((value, ctx) => {
  try {
    parseCidr(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message, input: value });
  }
});

/** `"web-fetch"` or `["web-fetch", {...}]`. */
export const webFetchOptions = z.strictObject({
  /** Fetches per request when the tool definition has no `max_uses`. Default 5. */
  maxUses: z.number({ error: 'must be a whole number from 1 to 50' }).int('must be a whole number from 1 to 50').min(1).max(50).optional(),
  /** The whole fetch (DNS, connect, redirects, body), ms. Default 10 000. */
  timeoutMs: positiveNumberOption.optional(),
  /** Body bytes read; the rest is cut (the result says so). A number or `"1mb"`. Default 1 MB. */
  maxBytes: sizeOption.optional(),
  /** Redirects followed (each one checked again). Default 5. */
  maxRedirects: z.number({ error: 'must be a whole number from 0 to 20' }).int('must be a whole number from 0 to 20').min(0).max(20).optional(),
  /** `user-agent` of the fetches. Default `llm-proxy-web-fetch/<version>`. */
  userAgent: stringOption.optional(),
  /**
   * Test and development only: addresses or CIDR ranges (`["127.0.0.1/32"]`) the fetch may reach
   * although they are private, loopback or link-local. Empty by default.
   */
  allowPrivateAddresses: z.array(cidr, { error: 'must be a list of IP addresses or CIDR ranges' }).optional(),
  /** Library mode and tests: resolves a host name to all its addresses (default: the system resolver). */
  resolve: z.custom<HostResolver>((value) => typeof value === 'function', { error: 'must be a function (hostname) => Promise<{ address, family }[]>' }).optional(),
});

export type WebFetchOptions = z.input<typeof webFetchOptions>;
