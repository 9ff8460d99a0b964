import { MessageAccumulator } from '../../anthropic/accumulate.js';
import type { Message, StreamEvent } from '../../anthropic/types.js';
import { ProxyError } from '../../errors.js';
import type { ProviderResponse } from '../../kernel/types.js';

export type RecordingState = 'open' | 'done' | 'failed';

/**
 * One answer as it is produced: a bounded copy of its events, from which the complete Message is
 * rebuilt for the cache tiers, and which single-flight followers replay (events so far, then live).
 */
export class Recording {
  #events: StreamEvent[] = [];
  #bytes = 0;
  #state: RecordingState = 'open';
  #message: Message | undefined;
  #reason = '';
  #wake: Array<() => void> = [];
  /** Requests replaying this answer; while there are any, the copy is kept whatever its size. */
  followers = 0;
  /** False once the copy outgrew `maxBytes` (nothing is stored). */
  storable = true;

  constructor(
    private readonly maxBytes: number,
    private readonly hooks: { settled(recording: Recording): void; dropped(recording: Recording): void },
  ) {}

  get state(): RecordingState {
    return this.#state;
  }

  /** The complete answer once `done` (undefined when the copy was dropped). */
  get message(): Message | undefined {
    return this.#message;
  }

  get started(): boolean {
    return this.#events.length > 0 || this.#state !== 'open';
  }

  push(event: StreamEvent): void {
    if (this.#state !== 'open' || !this.storable && this.followers === 0) return;
    this.#events.push(event);
    this.#bytes += approximateSize(event);
    if (this.storable && this.#bytes > this.maxBytes) {
      this.storable = false;
      if (this.followers === 0) {
        this.#events = [];
        this.hooks.dropped(this);
      }
    }
    this.#notify();
  }

  /** The answer completed: `message` for a whole-message response, else rebuilt from the copy. */
  finish(message?: Message): void {
    if (this.#state !== 'open') return;
    try {
      this.#message = message ?? (this.storable || this.followers > 0 ? rebuild(this.#events) : undefined);
    } catch (error) {
      this.fail(error instanceof Error ? error.message : String(error));
      return;
    }
    this.#settle('done');
  }

  fail(reason: string): void {
    if (this.#state !== 'open') return;
    this.#reason = reason;
    this.#settle('failed');
  }

  /** Resolves once the answer started (`started`) or settled, or the signal aborted. */
  async waitFor(until: 'started' | 'settled', signal: AbortSignal): Promise<void> {
    const ready = () => signal.aborted || (until === 'started' ? this.started : this.#state !== 'open');
    while (!ready()) await this.#changed(signal);
  }

  /** The events so far, then the live ones; throws when the answer fails. */
  async *follow(): AsyncGenerator<StreamEvent> {
    for (let i = 0; ; ) {
      while (i < this.#events.length) yield this.#events[i++]!;
      if (this.#state === 'done') return;
      if (this.#state === 'failed') {
        throw new ProxyError(`The identical request this one shared an answer with failed: ${this.#reason}`, {
          code: 'shared_answer_failed',
          type: 'api_error',
          status: 502,
        });
      }
      await this.#changed();
    }
  }

  #settle(state: RecordingState): void {
    this.#state = state;
    this.#notify();
    this.hooks.settled(this);
  }

  #changed(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#wake.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const resolve of wake) resolve();
  }
}

/** Forwards every event untouched and at once, copying it into the recording; settles it at the end. */
export function recordResponse(response: ProviderResponse, recording: Recording): ProviderResponse {
  if (response.kind === 'message') {
    recording.finish(response.message);
    return response;
  }
  return { kind: 'stream', events: tee(response.events, recording) };
}

async function* tee(events: AsyncIterable<StreamEvent>, recording: Recording): AsyncGenerator<StreamEvent> {
  try {
    for await (const event of events) {
      if (event.type === 'error') recording.fail(event.error.message);
      else recording.push(event);
      // Settled before it is yielded: the consumer stops pulling after message_stop.
      if (event.type === 'message_stop') recording.finish();
      yield event;
    }
  } catch (error) {
    recording.fail(error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    // A consumer that stopped early (client gone) or a stream without message_stop: never stored.
    recording.fail('the stream ended before message_stop');
  }
}

function rebuild(events: readonly StreamEvent[]): Message {
  const accumulator = new MessageAccumulator();
  for (const event of events) accumulator.push(event);
  return accumulator.message();
}

/** Roughly the bytes an event adds to the stored answer (string lengths, plus a constant for structure). */
function approximateSize(event: StreamEvent): number {
  if (event.type === 'content_block_delta') {
    const { delta } = event;
    switch (delta.type) {
      case 'text_delta':
        return 16 + delta.text.length;
      case 'input_json_delta':
        return 16 + delta.partial_json.length;
      case 'thinking_delta':
        return 16 + delta.thinking.length;
      case 'signature_delta':
        return 16 + delta.signature.length;
    }
  }
  if (event.type === 'content_block_start' && event.content_block.type === 'redacted_thinking') return 64 + event.content_block.data.length;
  return 256;
}
