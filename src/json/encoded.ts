// Values whose JSON is already written: a request serialiser sends these bytes instead of
// stringifying the value again (the translated tools of a session, the same on every request).

const encodings = new WeakMap<object, Buffer>();

/** Records `JSON.stringify(value)` as bytes for `value`, which must not change afterwards (freeze it). */
export function withJson<T extends object>(value: T): T {
  encodings.set(value, Buffer.from(JSON.stringify(value)));
  return value;
}

/** The bytes recorded for `value` by `withJson`, if any. */
export function jsonOf(value: unknown): Buffer | undefined {
  return typeof value === 'object' && value !== null ? encodings.get(value) : undefined;
}
