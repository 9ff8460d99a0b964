// JSON as bytes, before it is parsed: a nesting bound and a decoding that keeps big texts one-byte.
import { isAscii } from 'node:buffer';

/**
 * Whether the JSON text nests objects and arrays deeper than `max` (brackets inside strings do
 * not count). One pass over the bytes, jumping from quote to quote inside strings; UTF-8
 * continuation bytes never equal the ASCII bytes it looks for.
 */
export function nestsDeeperThan(json: Buffer, max: number): boolean {
  let depth = 0;
  const length = json.length;
  for (let i = 0; i < length; i++) {
    const byte = json[i];
    if (byte === 0x22) {
      // To the closing quote: one preceded by an even number of backslashes.
      for (;;) {
        i = json.indexOf(0x22, i + 1);
        if (i < 0) return false; // unterminated: JSON.parse names the error
        let backslashes = 0;
        while (json[i - 1 - backslashes] === 0x5c) backslashes++;
        if ((backslashes & 1) === 0) break;
      }
    } else if (byte === 0x7b || byte === 0x5b) {
      if (++depth > max) return true;
    } else if (byte === 0x7d || byte === 0x5d) depth--;
  }
  return false;
}

/**
 * The body as a one-byte string, non-ASCII characters written as `\uXXXX` escapes (outside a
 * string they are invalid JSON either way). Claude Code's prompts carry a few dashes and arrows:
 * decoded as they are, the whole ~80 KB text becomes a two-byte string of 160 KB, which V8 puts in
 * large-object space, freed only by a full GC; with 1,000 requests arriving at once that alone
 * held hundreds of MB. Falls back to plain decoding for invalid UTF-8 or a backslash before a
 * non-ASCII character (JSON.parse then reports the error as usual).
 */
export function oneByteText(raw: Buffer): string {
  if (isAscii(raw)) return raw.toString('latin1');
  let out = '';
  let copied = 0;
  for (let block = 0; block < raw.length; block += 512) {
    const end = Math.min(raw.length, block + 512);
    if (isAscii(raw.subarray(block, end))) continue;
    for (let i = Math.max(block, copied); i < end; i++) {
      if (raw[i]! < 0x80) continue;
      const char = utf8At(raw, i);
      if (char === undefined || raw[i - 1] === 0x5c) return raw.toString('utf8');
      out += raw.toString('latin1', copied, i) + escapeCodePoint(char.codePoint);
      i += char.length - 1;
      copied = i + 1;
    }
  }
  return out + raw.toString('latin1', copied);
}

/** The UTF-8 sequence starting at `i`, or undefined when it is not well-formed. */
function utf8At(raw: Buffer, i: number): { codePoint: number; length: number } | undefined {
  const lead = raw[i]!;
  const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
  if (length === 0 || i + length > raw.length) return undefined;
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
