import { z } from 'zod';
import { booleanOption, positiveNumberOption, sizeOption } from '../../plugin-kit/plugin-options.js';

/** `["memory-cache", {...}]`; an unknown key is ignored. */
export const memoryCacheOptions = z.object({
  /** Default true; false keeps the other tiers and single flight without an in-process copy. */
  enabled: booleanOption.optional(),
  /** Total size of the stored answers (bytes, or a string like `64mb`); default 64 MB. */
  maxBytes: sizeOption.optional(),
  /** Largest single answer kept; default an eighth of `maxBytes`. */
  maxEntryBytes: sizeOption.optional(),
  /** Default 3600 (1 h); a backend's `cache.ttlSeconds` replaces it. */
  ttlSeconds: positiveNumberOption.optional(),
});

export type MemoryCacheOptions = z.input<typeof memoryCacheOptions>;
