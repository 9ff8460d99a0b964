import { z } from 'zod';
import { booleanOption, positiveNumberOption } from '../../plugin-kit/plugin-options.js';

/** `["context-window", {...}]`. */
export const contextWindowOptions = z.strictObject({
  /** Default true: requests are checked against every window known. */
  enabled: booleanOption.optional(),
  /** How long the first request to a model waits for its server to say its window, ms. Default 3000. */
  waitMs: positiveNumberOption.optional(),
  /** How often a discovered window is read again, s. Default 600. */
  refreshSeconds: positiveNumberOption.optional(),
});

export type ContextWindowOptions = z.input<typeof contextWindowOptions>;
