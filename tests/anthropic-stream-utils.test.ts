import { describe, expect, it } from 'vitest';
import { MessageAccumulator, collectMessage } from '../src/anthropic/accumulate.js';
import { messageToEvents } from '../src/anthropic/replay.js';
import { encodeEvent } from '../src/anthropic/sse.js';
import type { Message, StreamEvent } from '../src/anthropic/types.js';
import { ProxyError } from '../src/errors.js';

const message: Message = {
  id: 'msg_1',
  type: 'message',
  role: 'assistant',
  model: 'claude-sonnet-4-5',
  content: [
    { type: 'thinking', thinking: 'consider', signature: 'sig-abc' },
    { type: 'text', text: 'Here you go.' },
    { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls -la', nested: { n: [1, 2] } } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 10, output_tokens: 25, cache_read_input_tokens: 300, cache_creation_input_tokens: 0 },
};

async function* iterate(events: StreamEvent[]): AsyncGenerator<StreamEvent> {
  yield* events;
}

describe('encodeEvent', () => {
  it('frames an event as event/data lines and a blank line', () => {
    const event: StreamEvent = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'hi\n' } };
    expect(encodeEvent(event)).toBe(
      'event: content_block_delta\n' +
        'data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"hi\\n"}}\n\n',
    );
    expect(encodeEvent({ type: 'ping' })).toBe('event: ping\ndata: {"type":"ping"}\n\n');
  });
});

describe('messageToEvents', () => {
  it('produces the exact Anthropic event sequence', () => {
    expect(messageToEvents(message)).toEqual([
      {
        type: 'message_start',
        message: {
          ...message,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: 10, output_tokens: 0, cache_read_input_tokens: 300, cache_creation_input_tokens: 0 },
        },
      },
      { type: 'ping' },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'consider' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig-abc' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Here you go.' } },
      { type: 'content_block_stop', index: 1 },
      {
        type: 'content_block_start',
        index: 2,
        content_block: { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: {} },
      },
      {
        type: 'content_block_delta',
        index: 2,
        delta: { type: 'input_json_delta', partial_json: '{"command":"ls -la","nested":{"n":[1,2]}}' },
      },
      { type: 'content_block_stop', index: 2 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: 25 },
      },
      { type: 'message_stop' },
    ]);
  });

  it('sends no signature_delta for an empty signature and keeps redacted thinking', () => {
    const events = messageToEvents({
      ...message,
      content: [
        { type: 'thinking', thinking: 't', signature: '' },
        { type: 'redacted_thinking', data: 'opaque' },
      ],
    });
    expect(events.filter((e) => e.type === 'content_block_delta')).toEqual([
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 't' } },
    ]);
    expect(events).toContainEqual({
      type: 'content_block_start',
      index: 1,
      content_block: { type: 'redacted_thinking', data: 'opaque' },
    });
  });

  it('round-trips through MessageAccumulator', () => {
    const withStopSequence: Message = {
      ...message,
      content: [...message.content, { type: 'redacted_thinking', data: 'opaque' }, { type: 'text', text: '' }],
      stop_reason: 'stop_sequence',
      stop_sequence: 'END',
    };
    for (const original of [message, withStopSequence]) {
      const accumulator = new MessageAccumulator();
      for (const event of messageToEvents(original)) accumulator.push(event);
      expect(accumulator.complete).toBe(true);
      expect(accumulator.message()).toEqual(original);
    }
  });
});

describe('MessageAccumulator', () => {
  const startEvent: StreamEvent = {
    type: 'message_start',
    message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } },
  };

  it('concatenates deltas, parses tool input at block stop, and merges usage', () => {
    const accumulator = new MessageAccumulator();
    const events: StreamEvent[] = [
      startEvent,
      { type: 'ping' },
      { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'a' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'b' } },
      { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
      { type: 'content_block_stop', index: 0 },
      { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Hel' } },
      { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'lo' } },
      { type: 'content_block_stop', index: 1 },
      { type: 'content_block_start', index: 2, content_block: { type: 'tool_use', id: 't1', name: 'A', input: {} } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '{"x":' } },
      { type: 'content_block_delta', index: 2, delta: { type: 'input_json_delta', partial_json: '[1]}' } },
      { type: 'content_block_stop', index: 2 },
      { type: 'content_block_start', index: 3, content_block: { type: 'tool_use', id: 't2', name: 'B', input: {} } },
      { type: 'content_block_delta', index: 3, delta: { type: 'input_json_delta', partial_json: '{"broken' } },
      { type: 'content_block_stop', index: 3 },
      { type: 'content_block_start', index: 4, content_block: { type: 'tool_use', id: 't3', name: 'C', input: {} } },
      { type: 'content_block_stop', index: 4 },
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: 30, cache_read_input_tokens: 7 },
      },
    ];
    for (const event of events) accumulator.push(event);
    expect(accumulator.complete).toBe(false);
    accumulator.push({ type: 'message_stop' });
    expect(accumulator.complete).toBe(true);
    expect(accumulator.message()).toEqual({
      ...message,
      content: [
        { type: 'thinking', thinking: 'ab', signature: 'sig' },
        { type: 'text', text: 'Hello' },
        { type: 'tool_use', id: 't1', name: 'A', input: { x: [1] } },
        { type: 'tool_use', id: 't2', name: 'B', input: {} },
        { type: 'tool_use', id: 't3', name: 'C', input: {} },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 5, output_tokens: 30, cache_read_input_tokens: 7 },
    });
  });

  it('lets message_delta usage replace input_tokens when it states them', () => {
    const accumulator = new MessageAccumulator();
    accumulator.push(startEvent);
    accumulator.push({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 99, output_tokens: 3 },
    });
    expect(accumulator.message().usage).toEqual({ input_tokens: 99, output_tokens: 3 });
  });

  it('returns a snapshot that later events do not change', () => {
    const accumulator = new MessageAccumulator();
    accumulator.push(startEvent);
    accumulator.push({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    accumulator.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'a' } });
    const snapshot = accumulator.message();
    accumulator.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'b' } });
    expect(snapshot.content).toEqual([{ type: 'text', text: 'a' }]);
    expect(accumulator.message().content).toEqual([{ type: 'text', text: 'ab' }]);
  });

  it('rejects events that break the protocol', () => {
    expect(() => new MessageAccumulator().push({ type: 'message_stop' })).toThrow(ProxyError);
    const accumulator = new MessageAccumulator();
    accumulator.push(startEvent);
    expect(() =>
      accumulator.push({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } }),
    ).toThrow(/unknown block index 0/);
    accumulator.push({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    expect(() =>
      accumulator.push({
        type: 'content_block_delta',
        index: 0,
        delta: { type: 'input_json_delta', partial_json: '{' },
      }),
    ).toThrow(/input_json_delta for a text block/);
  });
});

describe('collectMessage', () => {
  it('returns the whole message', async () => {
    expect(await collectMessage(iterate(messageToEvents(message)))).toEqual(message);
  });

  it('throws when the stream ends before message_stop', async () => {
    const cut = messageToEvents(message).slice(0, -1);
    await expect(collectMessage(iterate(cut))).rejects.toMatchObject({
      name: 'ProxyError',
      code: 'upstream_incomplete',
    });
  });

  it('throws a ProxyError carrying the error event’s type and message', async () => {
    const events: StreamEvent[] = [
      ...messageToEvents(message).slice(0, 3),
      { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
    ];
    const error: unknown = await collectMessage(iterate(events)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyError);
    expect(error).toMatchObject({ type: 'overloaded_error', message: 'Overloaded', status: 529 });
  });
});
