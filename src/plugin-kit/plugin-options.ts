import { z } from 'zod';
import { parseBodyLimit } from '../config/body-limit.js';
import { errorMap, toConfigError } from '../config/schema.js';

/**
 * Checks a plugin's own options (what a config passes as `["redis-cache", {...}]`) against the
 * plugin's schema, once, in its factory, and returns them parsed (defaults and transforms
 * applied). A bad value throws a ConfigError naming `plugins.<plugin>.<field>`, without quoting
 * a secret. A strict schema makes an unknown key an error (`unknown option (known: ...)`); any
 * other object schema drops it. `undefined` (a plugin named without options) reads as `{}`.
 */
export function parsePluginOptions<Schema extends z.ZodType>(plugin: string, schema: Schema, value: unknown): z.output<Schema> {
  const result = schema.safeParse(value ?? {}, { error: errorMap });
  if (result.success) return result.data;
  const at = ['plugins', plugin];
  const issues = result.error.issues.flatMap((issue): z.core.$ZodIssue[] =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ ...issue, path: [...at, ...issue.path, key], message: unknownOption(schema, issue.path) }))
      : [{ ...issue, path: [...at, ...issue.path] }],
  );
  throw toConfigError(issues, undefined, value);
}

/** `unknown option (known: a, b)`, listing the keys the object at `path` declares (top level only). */
function unknownOption(schema: z.ZodType, path: readonly PropertyKey[]): string {
  const shape = path.length === 0 ? (schema as { shape?: unknown }).shape : undefined;
  const known = shape !== null && typeof shape === 'object' ? Object.keys(shape) : [];
  return known.length > 0 ? `unknown option (known: ${known.join(', ')})` : 'unknown option';
}

// Option pieces with the messages the plugins' options have always had.

const POSITIVE = 'must be a positive number';
/** A positive (finite) number. */
export const positiveNumberOption = z.number({ error: POSITIVE }).positive(POSITIVE);

const SIZE = 'must be a positive number of bytes or a size like "64mb"';
/** A size in bytes, as a number or a string like `64mb`; parsed to bytes. */
export const sizeOption = z.union([z.number(), z.string()], { error: SIZE }).transform((value, ctx) => {
  const bytes = parseBodyLimit(value);
  if (bytes === undefined) ctx.addIssue({ code: 'custom', message: SIZE, input: value });
  return bytes ?? 0;
});

/** `true` or `false`. */
export const booleanOption = z.boolean({ error: 'must be true or false' });

/** A string; an empty one (an unset `${VAR}`) reads as not given. */
export const stringOption = z.string({ error: 'must be a string' }).transform((value) => (value === '' ? undefined : value));

const REQUIRED_STRING = 'Required (a non-empty string)';
/** A non-empty string. */
export const requiredStringOption = z.string({ error: REQUIRED_STRING }).min(1, REQUIRED_STRING);
