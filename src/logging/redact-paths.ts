/** Field names whose values are credentials: censored by name, whatever the value. */
const CREDENTIAL_FIELDS = [
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'apiKey',
  'api_key',
  'password',
  'token',
  'accessToken',
  'access_token',
  'secret',
  'cookie',
  'set-cookie',
] as const;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** pino `redact` paths: each credential field at the top level and one level down (`headers.authorization`). */
export const REDACT_PATHS: readonly string[] = CREDENTIAL_FIELDS.flatMap((name) =>
  IDENTIFIER.test(name) ? [name, `*.${name}`] : [`["${name}"]`, `*["${name}"]`],
);
