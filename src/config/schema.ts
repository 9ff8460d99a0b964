import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { secretValuesIn } from '../secrets/collect.js';
import { parseBodyLimit } from './body-limit.js';
import type { PluginEntry, TunnelConfig, UserConfig } from './types.js';

// Missing fields read "Required" rather than "expected string, received undefined".
export const errorMap: z.core.$ZodErrorMap = (issue) => (issue.input === undefined ? 'Required' : undefined);

/** A fixed message for a present-but-invalid value; a missing one still reads "Required". */
export const says = (message: string) => (issue: { input?: unknown }) => (issue.input === undefined ? 'Required' : message);

export const httpUrl = z.url({ protocol: /^https?$/, error: says('must be an http:// or https:// URL') });

const modelMapping = {
  model: z.string().min(1).optional(),
  models: z.record(z.string(), z.string()).optional(),
  maxTokens: z.number().int().positive().optional(),
};

export const TCP_PORT = 'must be a port number (1-65535)';
export const tcpPort = z.number().int(TCP_PORT).min(1, TCP_PORT).max(65535, TCP_PORT);
// Host and user become ssh arguments: a leading "-" would be read as an option.
const sshHost = z.string().regex(/^(?!-)[\w.:-]+$/, 'must be a host name or an IP address');
const positiveMs = z.number().int().positive();

/** `backends.<name>.tunnel`, also read by the ssh-tunnel plugin. */
export const tunnelSchema = z.strictObject({
  host: sshHost,
  port: tcpPort.optional(),
  user: z.string().regex(/^(?!-)[\w.-]+$/, 'must be a user name'),
  identityFile: z.string().min(1).optional(),
  knownHostsFile: z.string().min(1).optional(),
  remotePort: tcpPort,
  remoteHost: sshHost.optional(),
  localPort: tcpPort.optional(),
  readyTimeoutMs: positiveMs.optional(),
});

/** Checks a `tunnel` block where the config schema did not run (library mode with a resolved config). */
export function validateTunnel(value: unknown, field: string): TunnelConfig {
  const result = tunnelSchema.safeParse(value, { error: errorMap });
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.length ? `.${formatPath(issue.path)}` : '';
  throw new ConfigError(issue?.message ?? 'invalid tunnel', { field: `${field}${path}` });
}

/**
 * Keys every backend type accepts, whatever its provider. The config checks these; the rest of a
 * backend entry is checked against its provider's own schema when the backends are built
 * (`validateBackendOptions`).
 */
export const backendCommonShape = {
  type: z.string().min(1),
  ...modelMapping,
  tunnel: tunnelSchema.optional(),
  firstByteTimeoutMs: positiveMs.optional(),
  cache: z
    .union([z.boolean(), z.strictObject({ enabled: z.boolean().optional(), ttlSeconds: z.number().int().positive().optional() })])
    .optional(),
  fallback: z.array(z.string().min(1)).optional(),
  contextWindow: z.number({ error: 'must be a whole number of tokens' }).int('must be a whole number of tokens').min(1024, 'must be at least 1024 tokens').optional(),
  endpoints: z
    .array(z.union([httpUrl, z.strictObject({ url: httpUrl.optional(), tunnel: tunnelSchema.optional() })], { error: says('must be a URL or { url, tunnel }') }))
    .min(1, 'must list at least one endpoint')
    .optional(),
};

export const backendSchema = z.looseObject(backendCommonShape);

const PORT = 'must be a port number (0-65535) or "auto"';
const portNumber = z.number().int(PORT).min(0, PORT).max(65535, PORT);
export const portSchema = z.union(
  [
    portNumber,
    z.literal('auto'),
    // Legacy configs wrote the port as a string ("8000").
    z.string().regex(/^\d+$/).transform(Number).pipe(portNumber),
  ],
  { error: PORT },
);

const ms = z.number().int().nonnegative().optional();

export const serverSchema = z.strictObject({
  bodyLimit: z
    .union([z.number(), z.string()])
    .refine((value) => parseBodyLimit(value) !== undefined, {
      error: says('must be a positive number of bytes or a size like "32mb" or "512kb"'),
    })
    .optional(),
  pingIntervalMs: ms,
  connectTimeoutMs: ms,
  firstByteTimeoutMs: ms,
  idleTimeoutMs: ms,
  shutdownGraceMs: ms,
});

const failoverMode = z.enum(['off', 'explicit', 'auto'], { error: says('must be "off", "explicit" or "auto"') });
const failoverSettings = z.strictObject({
  mode: failoverMode.optional(),
  retries: z.number().int().nonnegative().max(10).optional(),
  baseDelayMs: ms,
  maxDelayMs: ms,
  deadlineMs: ms,
  maxRetryAfterMs: ms,
});

export const userConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  backend: z.string().min(1).optional(),
  port: portSchema.optional(),
  host: z.string().min(1).optional(),
  backends: z.record(z.string(), backendSchema).optional(),
  // Loose on purpose: entries are resolved (and their options validated) by the plugins themselves.
  plugins: z.array(z.custom<PluginEntry>(() => true)).optional(),
  server: serverSchema.optional(),
  auth: z.strictObject({ keys: z.array(z.string().min(1)).optional() }).optional(),
  failover: z
    .union([failoverMode, failoverSettings], { error: says('must be "off", "explicit" or "auto", or { mode, retries, baseDelayMs, maxDelayMs, deadlineMs, maxRetryAfterMs }') })
    .optional(),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).optional(),
  logFormat: z.enum(['json', 'pretty', 'auto']).optional(),
  logFile: z.string().min(1).optional(),
});

export interface ValidationResult {
  config: UserConfig;
  /** Unknown keys that were ignored, each naming the file. */
  warnings: string[];
}

/**
 * Validates one (interpolated) config layer. Unknown keys are dropped with a warning; anything
 * else throws a ConfigError naming `file` and the field path. Messages never carry secret values.
 */
export function validateUserConfig(value: unknown, file: string): ValidationResult {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConfigError('the configuration must be an object', { file });
  }
  const warnings: string[] = [];
  let input: unknown = value;
  let result = userConfigSchema.safeParse(input, { error: errorMap });
  if (!result.success) {
    const unknown = result.error.issues.filter((issue) => issue.code === 'unrecognized_keys');
    for (const issue of unknown) {
      for (const key of issue.keys) {
        const guess = closest(key, knownKeysAt(issue.path));
        warnings.push(`${file}: unknown key "${formatPath([...issue.path, key])}" ignored${guess ? `; did you mean "${guess}"?` : ''}`);
      }
      input = omitAt(input, issue.path, issue.keys);
    }
    if (unknown.length > 0) result = userConfigSchema.safeParse(input, { error: errorMap });
  }
  if (!result.success) throw toConfigError(result.error.issues, file, value);
  const { $schema: _schema, ...config } = result.data;
  // The schema checked every field UserConfig declares; backends and plugins keep their own shapes.
  return { config: config as UserConfig, warnings };
}

/** The keys the schema knows where an unknown one was found (the top level and `server`; else none). */
function knownKeysAt(path: readonly PropertyKey[]): string[] {
  if (path.length === 0) return Object.keys(userConfigSchema.shape);
  if (path[0] === 'server' && path.length === 1) return Object.keys(serverSchema.shape);
  return [];
}

/** The known key a typo most likely meant: at most two edits away, and fewer than half its letters. */
export function closest(typo: string, candidates: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of candidates) {
    const distance = editDistance(typo.toLowerCase(), key.toLowerCase());
    if (distance <= 2 && distance < key.length / 2 && (!best || distance < best.distance)) best = { key, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/** The issues as one ConfigError naming the first field (and `file`, when given); secret values in `input` are never quoted. */
export function toConfigError(issues: readonly z.core.$ZodIssue[], file: string | undefined, input: unknown): ConfigError {
  const secrets = collectSecretValues(input);
  const lines = issues.map((issue) => ({ field: formatPath(issue.path), message: redact(issue.message, secrets) }));
  const [first, ...rest] = lines;
  const message = [first?.message ?? 'invalid configuration', ...rest.map((l) => `\n  - ${l.field}: ${l.message}`)].join('');
  return new ConfigError(message, { file, field: first?.field || undefined });
}

/** `backends.gpu.url`, `plugins[2]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const key = String(segment);
      out += /^[\w$-]+$/.test(key) ? (out ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

/** Every secret in a config value (apiKey, auth.keys, headers, URL credentials), for redaction. */
export function collectSecretValues(value: unknown): Set<string> {
  return new Set([...secretValuesIn(value)].filter((secret) => secret.length >= 4));
}

export function redact(message: string, secrets: Iterable<string>): string {
  let out = message;
  for (const secretValue of secrets) out = out.split(secretValue).join('[redacted]');
  return out;
}

export function omitAt(value: unknown, path: readonly PropertyKey[], keys: readonly string[]): unknown {
  if (value === null || typeof value !== 'object') return value;
  const [head, ...tail] = path;
  if (Array.isArray(value)) {
    const items: readonly unknown[] = value;
    return typeof head === 'number' ? items.map((item, i) => (i === head ? omitAt(item, tail, keys) : item)) : items;
  }
  const copy: Record<PropertyKey, unknown> = { ...value };
  if (head === undefined) for (const key of keys) delete copy[key];
  else copy[head] = omitAt(copy[head], tail, keys);
  return copy;
}
