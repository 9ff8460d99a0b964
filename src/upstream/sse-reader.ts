import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { ProxyError } from '../errors.js';

export interface SSEEvent {
  event?: string;
  data: string;
}

/** Guards memory against a stream that never ends its line or event. */
const MAX_EVENT_CHARS = 16 * 1024 * 1024;

const NONE: readonly SSEEvent[] = Object.freeze([]);

/**
 * Server-sent events split off a byte stream as its chunks arrive, synchronously: what readSSE
 * yields, a chunk at a time, for a reader that goes on to parse them in the same loop.
 */
export class SSESplitter {
  #pending: SSEEvent[] = [];
  #overflow = false;
  readonly #parser;
  readonly #decoder = new TextDecoder();
  readonly #backend: string | undefined;

  constructor(opts: { backend?: string } = {}) {
    this.#backend = opts.backend;
    this.#parser = createParser({
      onEvent: (message: EventSourceMessage) => {
        this.#pending.push(message.event === undefined ? { data: message.data } : { event: message.event, data: message.data });
      },
      onError: (error) => {
        if (error.type === 'max-buffer-size-exceeded') this.#overflow = true;
      },
      maxBufferSize: MAX_EVENT_CHARS,
    });
  }

  /** The events this chunk completes. Comments (`: ping`) are dropped. */
  push(chunk: Uint8Array): readonly SSEEvent[] {
    this.#feed(this.#decoder.decode(chunk, { stream: true }));
    return this.#take();
  }

  /** At a clean end of stream: an event left unterminated (some servers omit the blank line after `data: [DONE]`). */
  end(): readonly SSEEvent[] {
    this.#feed(this.#decoder.decode());
    this.#feed('\n\n');
    return this.#take();
  }

  #feed(text: string): void {
    if (!text) return;
    this.#parser.feed(text);
    if (this.#overflow) throw tooLarge('server-sent event', this.#backend);
  }

  #take(): readonly SSEEvent[] {
    if (this.#pending.length === 0) return NONE;
    const events = this.#pending;
    this.#pending = [];
    return events;
  }
}

/**
 * Server-sent events from a byte stream, each yielded as soon as its blank line arrives.
 * Comments (`: ping`) are dropped. An event left unterminated at a clean end of stream is still
 * yielded (some servers omit the final blank line after `data: [DONE]`).
 */
export async function* readSSE(
  body: AsyncIterable<Uint8Array>,
  opts: { backend?: string } = {},
): AsyncIterable<SSEEvent> {
  const splitter = new SSESplitter(opts);
  for await (const chunk of body) {
    for (const event of splitter.push(chunk)) yield event;
  }
  for (const event of splitter.end()) yield event;
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
