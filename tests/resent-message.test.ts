import { describe, expect, it } from 'vitest';
import { messageJson, replayEvents, resent } from '../src/anthropic/resent-message.js';
import { messageToEvents } from '../src/anthropic/replay.js';
import { encodeEvent } from '../src/anthropic/sse.js';
import type { Message } from '../src/anthropic/types.js';

const stored = (): Message => ({
  id: 'msg_stored',
  type: 'message',
  role: 'assistant',
  model: 'qwen3-coder:30b',
  content: [
    { type: 'text', text: 'Listing — “files” 🤖' },
    { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls -la' } },
  ],
  stop_reason: 'tool_use',
  stop_sequence: null,
  usage: { input_tokens: 1200, output_tokens: 42, cache_read_input_tokens: 0 },
});

const sse = (events: ReturnType<typeof messageToEvents>) => events.map(encodeEvent).join('');

describe('a stored answer sent again', () => {
  it('is the same JSON and the same event stream as the message itself, with its own id', () => {
    const original = stored();
    for (const id of ['msg_a', 'msg_b']) {
      const message = resent(original, id);
      const plain: Message = { ...stored(), id };
      expect(JSON.parse(messageJson(message))).toEqual(plain);
      expect(sse(replayEvents(message))).toBe(sse(messageToEvents(plain)));
    }
  });

  it('writes its events once: every hit shares them, after a message_start of its own', () => {
    const original = stored();
    const [startA, ...restA] = replayEvents(resent(original, 'msg_a'));
    const [startB, ...restB] = replayEvents(resent(original, 'msg_b'));
    expect(startA).not.toBe(startB);
    expect(restA).toHaveLength(restB.length);
    restA.forEach((event, i) => expect(event).toBe(restB[i]));
    expect(Object.isFrozen(restA[0])).toBe(true);
  });

  it('is written afresh when a tap changed a member of the copy, and cannot be changed in place', () => {
    const original = stored();
    const message = resent(original, 'msg_c');
    message.stop_reason = 'end_turn';
    expect(JSON.parse(messageJson(message))).toMatchObject({ id: 'msg_c', stop_reason: 'end_turn' });
    expect(sse(replayEvents(message))).toBe(sse(messageToEvents({ ...stored(), id: 'msg_c', stop_reason: 'end_turn' })));
    expect(() => {
      (original.content[0] as { text: string }).text = 'changed';
    }).toThrow(TypeError);
  });

  it('leaves any other message to JSON.stringify and messageToEvents', () => {
    const message = stored();
    expect(messageJson(message)).toBe(JSON.stringify(message));
    expect(sse(replayEvents(message))).toBe(sse(messageToEvents(message)));
    expect(Object.isFrozen(message)).toBe(false);
  });
});
