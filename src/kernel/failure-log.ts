import { PluginError, type ProxyError } from '../errors.js';

export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** What the log says about an error: for an internal one, the reason the client never sees and the plugin and hook that threw. */
export function failureFields(error: ProxyError): { error: string; reason?: string; plugin?: string; hook?: string } {
  if (error.code !== 'internal_error') return { error: error.code };
  const cause: unknown = error.cause;
  const where = cause instanceof PluginError ? { plugin: cause.plugin, hook: cause.hook } : {};
  return { error: error.code, reason: describe(cause ?? error), ...where };
}
