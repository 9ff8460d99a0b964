import { z } from 'zod';
import { isRecord } from '../../config/is-record.js';
import { booleanOption } from '../../plugin-kit/plugin-options.js';
import type { Price } from './savings.js';

const PRICE = 'must be { input, output }: US dollars per million tokens';
const isPrice = (value: unknown): value is Price =>
  isRecord(value) && [value.input, value.output].every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0);

/** `["cache", {...}]`; an unknown key is ignored. */
export const cacheOptions = z.object({
  /** Default true; false turns every tier off (each response says `x-llm-proxy-cache: bypass`). */
  enabled: booleanOption.optional(),
  /** Glob of the model Claude Code asked for -> US dollars per million tokens; matched before the Anthropic list prices. */
  prices: z
    .record(
      z.string(),
      z.custom<Price>(isPrice, { error: PRICE }).transform(({ input, output }): Price => ({ input, output })),
      { error: 'must be an object of { input, output } prices per million tokens' },
    )
    .optional(),
  /** Concurrent identical requests share one upstream call (default true). */
  singleFlight: booleanOption.optional(),
});

export type CachePluginOptions = z.input<typeof cacheOptions>;
