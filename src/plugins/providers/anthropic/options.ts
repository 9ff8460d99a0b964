import { z } from 'zod';
import { backendOptions, headersOption, httpUrlOption, says, secretOption, type BackendEntryOf } from '../../../plugin-kit/backend-schema.js';
import { SERVER_KINDS } from './capabilities.js';

const kinds = SERVER_KINDS.map((kind) => `"${kind}"`).join(', ');

/** Overrides of the `server` preset, feature by feature (capabilities.ts says what each one is). */
export const acceptsOption = z.strictObject({
  contextManagement: z.boolean().optional(),
  outputConfig: z.boolean().optional(),
  cacheScope: z.boolean().optional(),
  deferLoading: z.boolean().optional(),
  systemMessages: z.boolean().optional(),
  signatures: z.boolean().optional(),
  betas: z
    .union([z.literal('all'), z.array(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'must be a beta name like "context-1m-2025-08-07"'))], {
      error: says('must be "all" or a list of beta names'),
    })
    .optional(),
});

/** `type: "anthropic"`: the Anthropic API, or a server speaking its Messages API. */
export const anthropicOptions = backendOptions({
  /** Default `https://api.anthropic.com`. */
  url: httpUrlOption.optional(),
  apiKey: secretOption.optional(),
  headers: headersOption.optional(),
  /** What the server is, for what it accepts: default `anthropic-api` at api.anthropic.com, else `generic`. */
  server: z.enum(SERVER_KINDS, { error: says(`must be one of ${kinds}`) }).optional(),
  accepts: acceptsOption.optional(),
});

export type AnthropicOptions = z.output<typeof anthropicOptions>;

export interface AnthropicBackendConfig extends BackendEntryOf<typeof anthropicOptions> {
  type: 'anthropic';
}

declare module '../../../config/types.js' {
  interface BackendTypes {
    anthropic: AnthropicBackendConfig;
  }
}
