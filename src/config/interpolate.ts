export interface InterpolationResult<T> {
  value: T;
  /** Names of variables that were referenced without a default and are not set (deduplicated). */
  missing: string[];
}

// `$${...}` escapes a literal `${...}`; `${VAR:-default}` uses the default when VAR is unset or empty.
const PATTERN = /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a JSON-like value.
 * Unchanged subtrees keep their identity; non-plain objects (plugin instances, class objects)
 * are left untouched. Values are never logged; only missing names are reported.
 */
export function interpolate<T>(value: T, env: NodeJS.ProcessEnv): InterpolationResult<T> {
  const missing = new Set<string>();
  const result = walk(value, env, missing) as T;
  return { value: result, missing: [...missing] };
}

export function interpolateString(text: string, env: NodeJS.ProcessEnv, missing: Set<string>): string {
  if (!text.includes('${')) return text;
  return text.replace(PATTERN, (whole, escape: string, name: string, fallback: string | undefined) => {
    if (escape) return whole.slice(1);
    const current = env[name];
    if (fallback !== undefined) return current === undefined || current === '' ? fallback : current;
    if (current === undefined) {
      missing.add(name);
      return '';
    }
    return current;
  });
}

function walk(value: unknown, env: NodeJS.ProcessEnv, missing: Set<string>): unknown {
  if (typeof value === 'string') return interpolateString(value, env, missing);
  if (Array.isArray(value)) {
    let changed = false;
    const next = value.map((item: unknown) => {
      const replaced = walk(item, env, missing);
      if (replaced !== item) changed = true;
      return replaced;
    });
    return changed ? next : value;
  }
  if (isPlainObject(value)) {
    let changed = false;
    const next: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const replaced = walk(item, env, missing);
      if (replaced !== item) changed = true;
      next[key] = replaced;
    }
    return changed ? next : value;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
