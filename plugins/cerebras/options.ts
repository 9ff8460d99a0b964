import { backendOptions, httpUrlOption, secretOption, z, type BackendEntryOf } from '../../src/plugin.js';

/** `["cerebras", {...}]`: the plugin's own options (an unknown key is ignored). */
export const cerebrasPluginOptions = z.object({
  /** Default API URL for every cerebras backend. */
  apiUrl: httpUrlOption.optional(),
});

export type CerebrasPluginOptions = z.input<typeof cerebrasPluginOptions>;

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
