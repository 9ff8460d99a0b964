import { z } from 'zod';
import { backendCommonShape, httpUrl, says } from '../config/schema.js';

/**
 * The schema of one backend type's config entries: the type's own keys, and the keys every type
 * accepts (`model`, `models`, `maxTokens`, `tunnel`, `firstByteTimeoutMs`, `cache`). Any other
 * key is a typo: warned about, with the key it most likely meant, and dropped.
 */
export function backendOptions<Shape extends z.core.$ZodLooseShape>(shape: Shape) {
  return z.strictObject({ ...backendCommonShape, ...shape });
}

/**
 * A backend type's config entry as users write it (the schema's input), for its `BackendTypes`
 * entry: `interface EchoBackendConfig extends BackendEntryOf<typeof echoOptions> { type: 'echo' }`.
 */
export type BackendEntryOf<Schema extends z.ZodType> = Omit<z.input<Schema>, 'type'>;

/** An `http://` or `https://` URL. */
export const httpUrlOption = httpUrl;
/** A string of a value to keep secret (`apiKey`): never quoted in an error. */
export const secretOption = z.string();
/** `headers`: names to values. */
export const headersOption = z.record(z.string(), z.string());
export const positiveInt = z.number().int().positive();
export { says };

/** For types whose `url` may come from a `tunnel` instead (`http://127.0.0.1:<localPort>`). */
export function requireUrlOrTunnel(entry: { url?: unknown; tunnel?: unknown }, ctx: z.RefinementCtx): void {
  if (entry.url === undefined && entry.tunnel === undefined) ctx.addIssue({ code: 'custom', path: ['url'], message: 'Required' });
}
