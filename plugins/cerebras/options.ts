import { backendOptions, httpUrlOption, secretOption, type BackendEntryOf, type z } from '../../src/plugin.js';

/** `type: "cerebras"`: the Cerebras Inference API. */
export const cerebrasOptions = backendOptions({
  /** Default `$CEREBRAS_API_KEY`. */
  apiKey: secretOption.optional(),
  /** Default https://api.cerebras.ai/v1 (or the plugin's `apiUrl`). */
  apiUrl: httpUrlOption.optional(),
});

export type CerebrasOptions = z.output<typeof cerebrasOptions>;

export interface CerebrasBackendConfig extends BackendEntryOf<typeof cerebrasOptions> {
  type: 'cerebras';
}

declare module '../../src/plugin.js' {
  interface BackendTypes {
    cerebras: CerebrasBackendConfig;
  }
}
