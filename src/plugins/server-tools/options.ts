import { z } from 'zod';

/** `["server-tools", {...}]`. */
export const serverToolsOptions = z.strictObject({
  /**
   * Tell the model, in one line at the end of the system prompt, which tools were removed, so it
   * says it cannot search instead of inventing results. Default true.
   */
  systemNote: z.boolean({ error: 'must be true or false' }).optional(),
});

export type ServerToolsOptions = z.input<typeof serverToolsOptions>;
