// JSON as bytes, before it is parsed: a nesting bound, where the top-level members lie, and a
// decoding that keeps big texts one-byte.
import { isAscii } from 'node:buffer';

/** What one pass over a JSON text found before it is parsed. */
export interface JsonScan {
  /** Objects and arrays nest deeper than the bound. */
  tooDeep: boolean;
  /** How deep they nest (as far as the scan went). */
  depth: number;
  /** Byte ranges [start, end) of the values of the top-level members asked for (the last of a repeated name, as JSON.parse keeps). */
  members: Map<string, [number, number]>;
  /** Byte ranges of the elements of the top-level arrays asked for (whitespace around them included). */
  elements: Map<string, Array<[number, number]>>;
}

/** A value the caller knows by its bytes, beginning where it was asked about: the index after its last byte, and how deep it nests (itself counted). */
export interface KnownValue {
  end: number;
  depth: number;
}

/** Asked where a wanted member's value or an element of a wanted array begins (an object or array). */
export type KnownAt = (json: Buffer, start: number) => KnownValue | undefined;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * One pass over the bytes: whether objects and arrays nest deeper than `max` (brackets inside
 * strings do not count), where the values of the top-level members named in `wanted` start and
 * end, and where the elements of the top-level arrays named in `arrays` do. Jumps from quote to
 * quote inside strings; UTF-8 continuation bytes never equal the ASCII bytes it looks for. A
 * malformed text yields what it saw; JSON.parse names the error. Where such a value begins,
 * `knownAt` may name it: the scan jumps over its bytes, counting its depth.
 */
export function scanJson(json: Buffer, max: number, wanted: ReadonlySet<string> = NONE, arrays: ReadonlySet<string> = NONE, knownAt?: KnownAt): JsonScan {
  const members = new Map<string, [number, number]>();
  const elements = new Map<string, Array<[number, number]>>();
  let depth = 0;
  let deepest = 0;
  const result = (tooDeep: boolean): JsonScan => ({ tooDeep, depth: deepest, members, elements });
  /** The index of the last byte of the value `knownAt` names at `from` (after whitespace), or -1. */
  const knownEnd = (from: number): number => {
    if (!knownAt) return -1;
    const start = firstByte(json, from);
    const byte = json[start];
    const known = byte === 0x7b || byte === 0x5b ? knownAt(json, start) : undefined;
    if (!known) return -1;
    deepest = Math.max(deepest, depth + known.depth);
    return known.end - 1;
  };
  let expectKey = false;
  let key: string | undefined;
  let valueStart = -1;
  /** The elements of the array being read, when it is one of `arrays`. */
  let items: Array<[number, number]> | undefined;
  let itemStart = -1;
  const length = json.length;
  const close = (end: number) => {
    if (key !== undefined && valueStart >= 0 && wanted.has(key)) members.set(key, [valueStart, end]);
    key = undefined;
    valueStart = -1;
  };
  for (let i = 0; i < length; i++) {
    const byte = json[i];
    if (byte === QUOTE) {
      const start = i;
      i = stringEnd(json, i);
      if (i < 0) return result(false);
      if (depth === 1 && expectKey) {
        expectKey = false;
        key = i - start - 1 <= LONGEST_NAME ? json.toString('latin1', start + 1, i) : undefined;
        if (key !== undefined && !wanted.has(key) && !arrays.has(key)) key = undefined;
        const colon = json.indexOf(0x3a, i + 1);
        if (colon < 0) return result(false);
        i = colon;
        valueStart = colon + 1;
        if (key !== undefined && wanted.has(key)) {
          const last = knownEnd(valueStart);
          if (last >= 0) i = last;
          if (deepest > max) return result(true);
        }
      }
    } else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > max) return result(true);
      if (depth > deepest) deepest = depth;
      if (depth === 1) expectKey = byte === 0x7b;
      else if (depth === 2 && byte === 0x5b && key !== undefined && arrays.has(key)) {
        items = [];
        elements.set(key, items);
        itemStart = i + 1;
        const last = knownEnd(itemStart);
        if (last >= 0) i = last;
        if (deepest > max) return result(true);
      }
    } else if (byte === 0x7d || byte === 0x5d) {
      if (depth === 2 && items) {
        if (items.length > 0 || firstByte(json, itemStart, i) < i) items.push([itemStart, i]);
        items = undefined;
      }
      if (depth === 1) close(i);
      depth--;
    } else if (byte === 0x2c) {
      if (depth === 1) {
        close(i);
        expectKey = true;
      } else if (depth === 2 && items) {
        items.push([itemStart, i]);
        itemStart = i + 1;
        const last = knownEnd(itemStart);
        if (last >= 0) i = last;
        if (deepest > max) return result(true);
      }
    }
  }
  return result(false);
}

const NONE: ReadonlySet<string> = new Set();

/** Index of the first byte at or after `from` that is not JSON whitespace. */
export function firstByte(json: Buffer, from: number, to = json.length): number {
  let i = from;
  while (i < to && isBlank(json[i]!)) i++;
  return i;
}

/** The range [start, end) of `json[from, to)` without the JSON whitespace around it. */
export function trimmed(json: Buffer, from: number, to: number): [number, number] {
  const start = firstByte(json, from, to);
  let end = to;
  while (end > start && isBlank(json[end - 1]!)) end--;
  return [start, end];
}

const isBlank = (byte: number): boolean => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;

/** Member names longer than this are never asked for. */
const LONGEST_NAME = 64;

/** Index of the quote that closes the string opened at `open`: one preceded by an even number of backslashes; -1 when unterminated. */
function stringEnd(json: Buffer, open: number): number {
  let i = open;
  for (;;) {
    i = json.indexOf(QUOTE, i + 1);
    if (i < 0) return -1;
    let backslashes = 0;
    while (json[i - 1 - backslashes] === BACKSLASH) backslashes++;
    if ((backslashes & 1) === 0) return i;
  }
}

/** Whether the JSON text nests objects and arrays deeper than `max`. */
export const nestsDeeperThan = (json: Buffer, max: number): boolean => scanJson(json, max).tooDeep;

/**
 * The body as a one-byte string, non-ASCII characters written as `\uXXXX` escapes (outside a
 * string they are invalid JSON either way). Claude Code's prompts carry a few dashes and arrows:
 * decoded as they are, the whole ~80 KB text becomes a two-byte string of 160 KB, which V8 puts in
 * large-object space, freed only by a full GC; with 1,000 requests arriving at once that alone
 * held hundreds of MB. Falls back to plain decoding for invalid UTF-8 or a backslash before a
 * non-ASCII character (JSON.parse then reports the error as usual).
 */
export function oneByteText(raw: Buffer): string {
  const text = raw.toString('latin1');
  if (isAscii(raw)) return text;
  // Non-ASCII bytes come in runs, each a whole number of UTF-8 sequences when the text is valid.
  let out = '';
  let copied = 0;
  for (const run of text.matchAll(HIGH_RUNS)) {
    const start = run.index;
    const end = start + run[0].length;
    if (raw[start - 1] === BACKSLASH) return raw.toString('utf8');
    out += text.slice(copied, start);
    for (let i = start; i < end; ) {
      const char = utf8At(raw, i, end);
      if (char === undefined) return raw.toString('utf8');
      out += escapeCodePoint(char.codePoint);
      i += char.length;
    }
    copied = end;
  }
  return out + text.slice(copied);
}

const HIGH_RUNS = /[\x80-\xff]+/g;

/** The UTF-8 sequence starting at `i` and ending by `limit`, or undefined when it is not well-formed. */
function utf8At(raw: Buffer, i: number, limit: number): { codePoint: number; length: number } | undefined {
  const lead = raw[i]!;
  const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (length === 0 || i + length > limit) return undefined;
  let codePoint = lead & (0xff >> (length + 1));
  for (let k = 1; k < length; k++) {
    const next = raw[i + k]!;
    if ((next & 0xc0) !== 0x80) return undefined;
    codePoint = (codePoint << 6) | (next & 0x3f);
  }
  const overlong = codePoint < [0, 0, 0x80, 0x800, 0x10000][length]!;
  if (overlong || (codePoint >= 0xd800 && codePoint <= 0xdfff) || codePoint > 0x10ffff) return undefined;
  return { codePoint, length };
}

const hex4 = (unit: number) => `\\u${unit.toString(16).padStart(4, '0')}`;
function escapeCodePoint(codePoint: number): string {
  if (codePoint < 0x10000) return hex4(codePoint);
  const offset = codePoint - 0x10000;
  return hex4(0xd800 + (offset >> 10)) + hex4(0xdc00 + (offset & 0x3ff));
}
