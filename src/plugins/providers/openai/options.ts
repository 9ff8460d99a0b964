import type { z } from 'zod';
import type { UrlOrTunnel } from '../../../config/types.js';
import { backendOptions, headersOption, httpUrlOption, requireUrlOrTunnel, secretOption, type BackendEntryOf } from '../../../plugin-kit/backend-schema.js';

/** `type: "openai"`: any server speaking OpenAI Chat Completions. */
export const openaiOptions = backendOptions({
  /** Base URL up to the API version, e.g. `http://host:8000/v1`; a bare origin gets `/v1`. */
  url: httpUrlOption.optional(),
  apiKey: secretOption.optional(),
  headers: headersOption.optional(),
}).superRefine(requireUrlOrTunnel);

export type OpenAIOptions = z.output<typeof openaiOptions>;

export type OpenAIBackendConfig = BackendEntryOf<typeof openaiOptions> & UrlOrTunnel & { type: 'openai' };

declare module '../../../config/types.js' {
  interface BackendTypes {
    openai: OpenAIBackendConfig;
  }
}
