// A stored answer (a cache hit) is sent again and again, each time with an id of its own: its JSON
// and its events after `message_start` are written once per stored message, and each hit splices
// its id into the JSON or sends a `message_start` of its own before the written events.
import { deepFreeze } from '../json/raw-values.js';
import { framed } from './sse.js';
import { messageToEvents, startEvent } from './replay.js';
import type { Message, StreamEvent } from './types.js';

/** What is written once for a stored message. */
interface Written {
  /** Its JSON after the id: `,"type":"message",...}`. */
  readonly jsonAfterId: string;
  /** The events after `message_start` (ping, the blocks, `message_delta`, `message_stop`), frozen, each with its SSE frame. */
  readonly rest: readonly StreamEvent[];
}

/** A copy being sent -> the stored message it was made from. */
const origins = new WeakMap<Message, Message>();
const written = new WeakMap<Message, Written>();

/** `stored` with `id` in place of its own, to be sent as a new answer. `stored` is frozen: what is written of it stays true. */
export function resent(stored: Message, id: string): Message {
  deepFreeze(stored);
  const message: Message = { ...stored, id };
  origins.set(message, stored);
  return message;
}

/** The message as JSON; for a stored answer sent again, the JSON written for it with this id. */
export function messageJson(message: Message): string {
  const stored = originOf(message);
  return stored ? `{"id":${JSON.stringify(message.id)}${writtenOf(stored).jsonAfterId}` : JSON.stringify(message);
}

/** The message as an event stream (see messageToEvents); for a stored answer sent again, its written events after a `message_start` of its own. */
export function replayEvents(message: Message): StreamEvent[] {
  const stored = originOf(message);
  return stored ? [startEvent(message), ...writtenOf(stored).rest] : messageToEvents(message);
}

/** The stored message `message` was made from, when nothing but its id differs from it (a tap may have replaced a member since). */
function originOf(message: Message): Message | undefined {
  const stored = origins.get(message);
  if (!stored) return undefined;
  const keys = Object.keys(message) as Array<keyof Message>;
  if (keys.length !== Object.keys(stored).length) return undefined;
  return keys.every((key) => key === 'id' || message[key] === stored[key]) ? stored : undefined;
}

function writtenOf(stored: Message): Written {
  let known = written.get(stored);
  if (!known) {
    const { id: _id, ...rest } = stored;
    const json = JSON.stringify(rest);
    known = {
      jsonAfterId: json === '{}' ? '}' : `,${json.slice(1)}`,
      rest: messageToEvents(stored).slice(1).map((event) => framed(deepFreeze(event))),
    };
    written.set(stored, known);
  }
  return known;
}
