import { randomFillSync } from 'node:crypto';

// Ids drawn from a pool refilled a few KB at a time: randomBytes(12) per id asks the kernel for
// entropy on every call, several times a request.
const pool = Buffer.allocUnsafe(4096);
let used = pool.length;

/** `bytes` random bytes as text: an id for a request, a message, a tool call (not a secret). */
export function randomId(bytes: number, encoding: 'hex' | 'base64url'): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const text = pool.toString(encoding, used, used + bytes);
  used += bytes;
  return text;
}
