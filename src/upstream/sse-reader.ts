import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ProxyError } from '../errors.js';

export interface SSEEvent {
  event?: string;
  data: string;
}

/** Guards memory against a stream that never ends its line or event. */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

/**
 * Server-sent events from a byte stream, each yielded as soon as its blank line arrives.
 * Comments (`: ping`) are dropped. An event left unterminated at a clean end of stream is still
 * yielded (some servers omit the final blank line after `data: [DONE]`).
 */
export async function* readSSE(
  body: AsyncIterable<Uint8Array>,
  opts: { backend?: string } = {},
): AsyncIterable<SSEEvent> {
  const pending: SSEEvent[] = [];
  let overflow = false;
  const parser = createParser({
    onEvent: (message: EventSourceMessage) => {
      pending.push(message.event === undefined ? { data: message.data } : { event: message.event, data: message.data });
    },
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = true;
    },
    maxBufferSize: MAX_EVENT_CHARS,
  });
  const decoder = new TextDecoder();

  const feed = (text: string): void => {
    if (!text) return;
    parser.feed(text);
    if (overflow) {
      throw tooLarge('server-sent event', opts.backend);
    }
  };

  for await (const chunk of body) {
    feed(decoder.decode(chunk, { stream: true }));
    while (pending.length) yield pending.shift() as SSEEvent;
  }
  feed(decoder.decode());
  feed('\n\n');
  while (pending.length) yield pending.shift() as SSEEvent;
}

/** Non-blank lines of a newline-delimited (NDJSON) stream; a final unterminated line is yielded too. */
export async function* readNDJSON(
  body: AsyncIterable<Uint8Array>,
  opts: { backend?: string } = {},
): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (line) yield line;
      newline = buffer.indexOf('\n');
    }
    if (buffer.length > MAX_EVENT_CHARS) throw tooLarge('line', opts.backend);
  }
  const last = (buffer + decoder.decode()).trim();
  if (last) yield last;
}

function tooLarge(what: string, backend: string | undefined): ProxyError {
  return new ProxyError(`an upstream ${what} exceeded ${MAX_EVENT_CHARS} characters`, {
    code: 'upstream_malformed',
    type: 'api_error',
    status: 502,
    ...(backend === undefined ? {} : { backend }),
  });
}
