// Values of a request body recognised across requests by their bytes. Claude Code sends the same
// 24 tools (~60 KB), system prompt and earlier turns on every request of a session: what is
// derived from them (their translation and its JSON, the digest that stands for them in the cache key, their token
// estimate) is worked out once per distinct value and kept here, keyed by the bytes they were
// parsed from.
import { LRUCache } from 'lru-cache';
import { scanJson, trimmed } from './raw-json.js';

/** One distinct value: the value parsed from its bytes (frozen, shared by every request that sends them) and what was derived from it. */
export interface RawValue {
  /** How many bodies carried these bytes. */
  seen: number;
  value: object | undefined;
  readonly derived: Map<string, unknown>;
  /** The bytes (a copy of their own), from the container's first byte to its last. */
  readonly bytes: Buffer;
  /** How deep its objects and arrays nest, itself counted; set when its value is kept. */
  depth: number;
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
 * kept values out or hold memory. One body admits at most this many bytes of them, the first it
 * carries: a body with more new turns than that (a long session the proxy sees for the first
 * time) would otherwise push out its own first turns before the next request brings them again,
 * and then every request after it, so none of them would ever be kept. The rest wait for a
 * later request, which finds the first ones kept.
 */
const CANDIDATE_BYTES = 1024 * 1024;
/**
 * Values are found by their first PREFIX bytes, then compared whole (a memcmp, nothing copied).
 * Turns that begin alike (`{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_…`)
 * differ within them; a bucket holds BUCKET values at most, so no input makes a lookup long.
 */
const PREFIX = 128;
const BUCKET = 16;

const byPrefix = new Map<string, RawValue[]>();
const prefixOf = (bytes: Buffer, start: number, end: number): string => bytes.toString('latin1', start, Math.min(end, start + PREFIX));

function index(value: RawValue): void {
  const prefix = prefixOf(value.bytes, 0, value.bytes.length);
  const bucket = byPrefix.get(prefix);
  if (!bucket) byPrefix.set(prefix, [value]);
  else {
    bucket.unshift(value);
    // The least recently added of a full bucket goes (and with it, out of its cache).
    if (bucket.length > BUCKET) forgetValue(bucket[bucket.length - 1]!);
  }
}

function unindex(value: RawValue): void {
  const prefix = prefixOf(value.bytes, 0, value.bytes.length);
  const bucket = byPrefix.get(prefix);
  const at = bucket?.indexOf(value) ?? -1;
  if (at < 0) return;
  bucket!.splice(at, 1);
  if (bucket!.length === 0) byPrefix.delete(prefix);
}

const bySize = { sizeCalculation: (_present: true, value: RawValue) => Math.max(1, value.bytes.length), dispose: (_present: true, value: RawValue) => unindex(value) };
const kept = new LRUCache<RawValue, true>({ maxSize: KEPT_BYTES, ...bySize });
const candidates = new LRUCache<RawValue, true>({ maxSize: CANDIDATE_BYTES, ...bySize });
const byObject = new WeakMap<object, RawValue>();

function forgetValue(value: RawValue): void {
  unindex(value);
  kept.delete(value);
  candidates.delete(value);
}

/** The value whose bytes are `raw[start, end)`, when it is known. */
function find(raw: Buffer, start: number, end: number): RawValue | undefined {
  const bucket = byPrefix.get(prefixOf(raw, start, end));
  if (!bucket) return undefined;
  const length = end - start;
  return bucket.find((value) => value.bytes.length === length && value.bytes.compare(raw, start, end) === 0);
}

/**
 * The distinct value these bytes (an object or array in a request body, from its first byte to
 * its last) stand for: with its parsed value when they were seen before, so the parser can skip
 * them. Only the parser calls this and `adopt`, before any plugin sees the value: a value changed
 * afterwards is a different object (plugins copy what they change), which is then unknown here
 * and derived afresh.
 */
export function recognise(bytes: Buffer, body: BodyBudget = newBody()): RawValue {
  const known = find(bytes, 0, bytes.length);
  if (known) {
    sighted(known);
    return known;
  }
  const fresh: RawValue = { seen: 1, value: undefined, derived: new Map(), bytes: Buffer.from(bytes), depth: -1 };
  if (body.candidateBytes < bytes.length) return fresh;
  body.candidateBytes -= bytes.length;
  candidates.set(fresh, true);
  // Bytes over the budget are not kept (the cache refuses them), so not indexed either.
  if (candidates.has(fresh)) index(fresh);
  return fresh;
}

/** What one body may still add to the values seen once (see CANDIDATE_BYTES). */
export interface BodyBudget {
  candidateBytes: number;
}

export const newBody = (): BodyBudget => ({ candidateBytes: CANDIDATE_BYTES });

/** One more body carried `known`'s bytes: from the second it is kept, and it stays among the most recently seen. */
export function sighted(known: RawValue): void {
  known.seen++;
  if (kept.get(known)) return;
  if (known.seen < 2) return;
  // Out of the candidates (which drops it from the index), into the values kept.
  candidates.delete(known);
  kept.set(known, true);
  if (kept.has(known)) index(known);
}

/**
 * A kept value, parsed before, whose bytes begin at `raw[start]`: the scanner jumps over it
 * (its depth is known) and the parser does not read it again. Only values of PREFIX bytes or
 * more are found here; shorter ones cost little to read.
 */
export function keptAt(raw: Buffer, start: number): RawValue | undefined {
  if (raw.length - start < PREFIX) return undefined;
  const bucket = byPrefix.get(raw.toString('latin1', start, start + PREFIX));
  if (!bucket) return undefined;
  for (const value of bucket) {
    const end = start + value.bytes.length;
    if (value.value !== undefined && end <= raw.length && value.bytes.compare(raw, start, end) === 0) return value;
  }
  return undefined;
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
    known.depth = scanJson(known.bytes, Number.POSITIVE_INFINITY).depth;
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

/** `recognise` and `adopt` in one: `value` was parsed from `bytes` (whitespace around them is dropped, as the body reader does). */
export function recogniseParsed(value: unknown, bytes: Buffer): void {
  const [start, end] = trimmed(bytes, 0, bytes.length);
  adopt(recognise(bytes.subarray(start, end)), value);
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
