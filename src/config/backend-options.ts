import type { z } from 'zod';
import { closest, errorMap, formatPath, omitAt, toConfigError } from './schema.js';

export interface BackendEntry {
  name: string;
  /** The entry as the config holds it, `${VAR}` already interpolated. */
  options: Readonly<Record<string, unknown>>;
  /** The file (or `environment`) the entry came from, for messages. */
  file?: string;
}

/**
 * Checks one `backends.<name>` entry against its provider's schema, once, when the backends are
 * built. As for the rest of the config, an unknown key is warned about (with the key it most
 * likely meant) and dropped, and anything else throws a ConfigError naming the file and
 * `backends.<name>.<field>`, without quoting a secret.
 */
export function validateBackendOptions<Output>(schema: z.ZodType<Output>, entry: BackendEntry, warn: (message: string) => void): Output {
  const at = ['backends', entry.name];
  const file = entry.file ?? 'config';
  let input: unknown = entry.options;
  let result = schema.safeParse(input, { error: errorMap });
  if (!result.success) {
    const unknown = result.error.issues.filter((issue) => issue.code === 'unrecognized_keys');
    for (const issue of unknown) {
      const known = knownKeys(schema, issue.path);
      for (const key of issue.keys) {
        const guess = closest(key, known);
        warn(`${file}: unknown key "${formatPath([...at, ...issue.path, key])}" ignored${guess ? `; did you mean "${guess}"?` : ''}`);
      }
      input = omitAt(input, issue.path, issue.keys);
    }
    if (unknown.length > 0) result = schema.safeParse(input, { error: errorMap });
  }
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => ({ ...issue, path: [...at, ...issue.path] }));
  throw toConfigError(issues, file, entry.options);
}

/** The keys an object schema declares at `path` (through optional wrappers: `accepts` in an entry). */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema;
  for (const key of path) node = unwrap(shapeOf(unwrap(node))?.[key as string]);
  const shape = shapeOf(unwrap(node));
  return shape ? Object.keys(shape) : [];
}

function shapeOf(node: unknown): Record<string, unknown> | undefined {
  const shape = (node as { shape?: unknown } | undefined)?.shape;
  return shape !== null && typeof shape === 'object' ? (shape as Record<string, unknown>) : undefined;
}

/** The schema inside `.optional()` / `.nullable()`, as many levels as there are. */
function unwrap(node: unknown): unknown {
  let current = node;
  while (current && typeof (current as { unwrap?: unknown }).unwrap === 'function' && !shapeOf(current)) {
    current = (current as { unwrap(): unknown }).unwrap();
  }
  return current;
}
