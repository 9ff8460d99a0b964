// Values of a request body recognised across requests by their bytes. Claude Code sends the same
// 24 tools (~60 KB), system prompt and earlier turns on every request of a session: what is
// derived from them (their translation and its JSON, their canonical cache-key text, their token
// estimate) is worked out once per distinct value and kept here, keyed by the bytes they were
// parsed from.
import { LRUCache } from 'lru-cache';

/** One distinct value: the value parsed from its bytes (frozen, shared by every request that sends them) and what was derived from it. */
export interface RawValue {
  /** How many bodies carried these bytes. */
  seen: number;
  value: object | undefined;
  readonly derived: Map<string, unknown>;
}

/**
 * The bytes of the distinct values kept, at most: a long session's turns (a 2 MB Claude Code
 * request) several times over. What is kept of a value (its bytes, the parsed value, what was
 * derived) takes about four times its bytes; the least recently seen go first.
 */
const KEPT_BYTES = 8 * 1024 * 1024;
/**
 * Values seen once wait here for a second sighting, with only their bytes: a session's turn comes
 * again with its next request, a one-off prompt never does, and many of those must not push the
 * kept values out or hold memory.
 */
const CANDIDATE_BYTES = 1024 * 1024;

// Keyed by the bytes as a latin1 string: one copy, and V8 compares long keys by content (it
// hashes a string over 16 K characters by its length only, so the lookup costs a memcmp).
const bySize = { sizeCalculation: (_value: RawValue, key: string) => Math.max(1, key.length) };
const kept = new LRUCache<string, RawValue>({ maxSize: KEPT_BYTES, ...bySize });
const candidates = new LRUCache<string, RawValue>({ maxSize: CANDIDATE_BYTES, ...bySize });
const byObject = new WeakMap<object, RawValue>();

/**
 * The distinct value these bytes (an object or array in a request body) stand for: with its
 * parsed value when they were seen before, so the parser can skip them. Only the parser calls
 * this and `adopt`, before any plugin sees the value: a value changed afterwards is a different
 * object (plugins copy what they change), which is then unknown here and derived afresh.
 */
export function recognise(bytes: Buffer): RawValue {
  const key = bytes.toString('latin1');
  const known = kept.get(key);
  if (known) {
    known.seen++;
    return known;
  }
  const candidate = candidates.get(key) ?? { seen: 0, value: undefined, derived: new Map() };
  candidate.seen++;
  if (candidate.seen < 2) candidates.set(key, candidate);
  else {
    candidates.delete(key);
    kept.set(key, candidate);
  }
  return candidate;
}

/**
 * Makes `value`, just parsed from the bytes `known` was recognised by, that distinct value's, and
 * freezes it: what is derived from it must stay true of it. What is kept is a copy of the outer
 * array or object with the contents shared: the request's own container is let go with the request.
 */
export function adopt(known: RawValue, value: unknown): void {
  // Kept from its second sighting: a turn sent once (a one-off prompt) costs only its bytes here.
  if (typeof value !== 'object' || value === null || known.seen < 2) return;
  if (!known.value) {
    deepFreeze(value);
    known.value = Object.freeze(shallowCopy(value));
  }
  byObject.set(value, known);
}

/** The kept value of `known` for one request: an outer container of its own, all of it frozen. */
export function instance(known: RawValue): object | undefined {
  if (!known.value) return undefined;
  const value = Object.freeze(shallowCopy(known.value));
  byObject.set(value, known);
  return value;
}

const shallowCopy = (value: object): object => (Array.isArray(value) ? [...(value as unknown[])] : { ...value });

/** `recognise` and `adopt` in one: `value` was parsed from `bytes`. */
export function recogniseParsed(value: unknown, bytes: Buffer): void {
  adopt(recognise(bytes), value);
}

/**
 * What `derive(value)` gives, worked out once per distinct value parsed from a request body
 * (`slot` names the derivation); for any other value, derived each time. The result is shared
 * between requests: it must never be changed.
 */
export function derivedOnce<V extends object, T>(value: V, slot: string, derive: (value: V) => T): T {
  const known = byObject.get(value);
  if (!known) return derive(value);
  if (known.derived.has(slot)) return known.derived.get(slot) as T;
  const result = derive(value);
  known.derived.set(slot, result);
  return result;
}

/** What `derive(value)` gives, kept as derivedOnce does, when `value` was recognised by its bytes; otherwise undefined. */
export function derivedIfKnown<V extends object, T>(value: V, slot: string, derive: (value: V) => T): T | undefined {
  return byObject.has(value) ? derivedOnce(value, slot, derive) : undefined;
}

/** Freezes `value` and everything in it: a derived value shared between requests stays as it was made. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
