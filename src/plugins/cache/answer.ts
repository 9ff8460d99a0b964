import { randomId } from '../../random-id.js';
import { resent } from '../../anthropic/resent-message.js';
import type { Message, Usage } from '../../anthropic/types.js';
import { isRecord } from '../../config/is-record.js';
import type { CacheHit } from '../../kernel/types.js';

/** What every cache tier stores: the complete answer and where it came from. */
export interface CachedAnswer {
  message: Message;
  meta: {
    /** Date.now() when the answer was first stored. */
    storedAt: number;
    backend: string;
    /** The upstream model that produced it. */
    model: string;
    usage: Usage;
  };
}

export function encodeAnswer(answer: CachedAnswer): string {
  return JSON.stringify(answer);
}

/** Parses a stored answer; anything that is not one (another format, corruption) is `undefined`, a miss. */
export function decodeAnswer(text: string): CachedAnswer | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || !isRecord(value.message) || !isRecord(value.meta)) return undefined;
  const { message, meta } = value;
  const valid =
    message.type === 'message' &&
    Array.isArray(message.content) &&
    isRecord(message.usage) &&
    typeof meta.storedAt === 'number' &&
    typeof meta.backend === 'string' &&
    typeof meta.model === 'string' &&
    isRecord(meta.usage);
  return valid ? (value as unknown as CachedAnswer) : undefined;
}

export const ageSeconds = (answer: CachedAnswer, now = Date.now()): number => Math.max(0, Math.floor((now - answer.meta.storedAt) / 1000));

/**
 * A stored answer as the response to this request: its usage as first reported, a message id of
 * its own; its JSON and events are written once per stored message (src/anthropic/resent-message.ts).
 */
export function toCacheHit(stored: Message, tier: string, status: CacheHit['status'], age: number): CacheHit {
  const message = resent(stored, `msg_${randomId(12, 'base64url')}`);
  return { status, tier, response: { kind: 'message', message }, ageSeconds: age };
}
