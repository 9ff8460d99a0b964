import type { StreamEvent } from './types.js';

/** Frames written before, of events sent again (frozen: see `framed`). */
const frames = new WeakMap<StreamEvent, string>();

/** One Anthropic server-sent event, as the Anthropic API frames it. */
export function encodeEvent(event: StreamEvent): string {
  return frames.get(event) ?? `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** Writes the frame of `event`, which must be frozen (it is sent as it is now), once: encodeEvent gives it from then on. */
export function framed<E extends StreamEvent>(event: E): E {
  if (!Object.isFrozen(event)) throw new TypeError('only a frozen event is framed once');
  frames.set(event, encodeEvent(event));
  return event;
}
