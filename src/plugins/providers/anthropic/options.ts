import type { z } from 'zod';
import { backendOptions, headersOption, httpUrlOption, secretOption, type BackendEntryOf } from '../../../plugin-kit/backend-schema.js';

/** `type: "anthropic"`: the Anthropic API, or a server speaking its Messages API. */
export const anthropicOptions = backendOptions({
  /** Default `https://api.anthropic.com`. */
  url: httpUrlOption.optional(),
  apiKey: secretOption.optional(),
  headers: headersOption.optional(),
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
