// The options of the echo backend type: one zod schema, which the proxy checks every
// `type: "echo"` entry against at start-up and which gives `defineConfig` its types.
import { backendOptions, z, type BackendEntryOf } from '@jleechan/llm-proxy-server/plugin';

export const echoOptions = backendOptions({
  /** Text put before every answer from this backend (overrides the plugin's `prefix`). */
  prefix: z.string().optional(),
});

export type EchoOptions = z.output<typeof echoOptions>;

/** The plugin's own options, `echoProvider({ prefix })`: checked by `parsePluginOptions` in the factory. */
export const echoPluginOptions = z.object({
  /** Text put before every answer. */
  prefix: z.string().optional(),
});

export type EchoPluginOptions = z.input<typeof echoPluginOptions>;

/** A backend of this type in the config: `{ type: 'echo', model?: 'echo-1', prefix?: '> ' }`. */
export interface EchoBackendConfig extends BackendEntryOf<typeof echoOptions> {
  type: 'echo';
}

// Adds `echo` to llm-proxy's backend types, so `defineConfig` checks echo backends as it checks
// the built-in ones (a misspelt key is a type error naming it).
declare module '@jleechan/llm-proxy-server/plugin' {
  interface BackendTypes {
    echo: EchoBackendConfig;
  }
}
