import type { StreamEvent } from './types.js';

/** One Anthropic server-sent event, as the Anthropic API frames it. */
export function encodeEvent(event: StreamEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}
