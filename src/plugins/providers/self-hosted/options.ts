import { z } from 'zod';
import type { BackendTypes, UrlOrTunnel } from '../../../config/types.js';
import { httpUrlOption } from '../../../plugin-kit/backend-schema.js';

/** The wire formats a server you run may speak, each named after the backend type that speaks it. */
export const SERVER_FORMATS = ['anthropic', 'openai', 'ollama'] as const;
export type ServerFormat = (typeof SERVER_FORMATS)[number];

export const formatOption = z.enum(SERVER_FORMATS, {
  error: (issue) => (issue.input === undefined ? 'Required' : 'must be "anthropic", "openai" or "ollama"'),
});

/**
 * `type: "self-hosted"`: only its own keys are checked here; the rest of the entry is checked by
 * the provider of its `format` (strictly: a typo there is warned about and dropped).
 */
export const selfHostedOptions = z.looseObject({
  url: httpUrlOption.optional(),
  format: formatOption.optional(),
  tunnel: z.unknown().optional(),
});

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The keys of the backend type named by a format (with `format: "ollama"`, Ollama's `numCtx` ...). */
type FormatFields<F extends ServerFormat> = F extends keyof BackendTypes ? DistributiveOmit<BackendTypes[F], 'type' | 'url' | 'tunnel'> : never;

/** A server entry in one of the formats; `format` may be left out for the type's default one. */
export type WithFormat<Default extends ServerFormat> = {
  [F in ServerFormat]: FormatFields<F> & (F extends Default ? { format?: F } : { format: F });
}[ServerFormat];

/** A server you run, on a rented GPU or behind a tunnel. Format defaults to `anthropic`. */
export type SelfHostedBackendConfig = { type: 'self-hosted' } & UrlOrTunnel & WithFormat<'anthropic'>;

declare module '../../../config/types.js' {
  interface BackendTypes {
    'self-hosted': SelfHostedBackendConfig;
  }
}
