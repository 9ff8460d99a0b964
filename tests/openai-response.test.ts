import { describe, expect, it } from 'vitest';
import { ProxyError } from '../src/errors.js';
import { fromOpenAIResponse, mapFinishReason } from '../src/openai/response.js';
import type { ChatCompletion, ChatResponseMessage, FinishReason } from '../src/openai/types.js';

function completion(
  message: Partial<ChatResponseMessage>,
  finish: FinishReason | null = 'stop',
  usage: ChatCompletion['usage'] = { prompt_tokens: 100, completion_tokens: 20 },
): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1,
    model: 'qwen3-coder',
    choices: [{ index: 0, message: { role: 'assistant', content: null, ...message }, finish_reason: finish }],
    usage,
  };
}
const opts = { model: 'claude-sonnet-4-5', id: 'msg_fixed' };

describe('fromOpenAIResponse', () => {
  it('turns content into a text message with mapped usage', () => {
    expect(fromOpenAIResponse(completion({ content: 'pong' }), opts)).toEqual({
      id: 'msg_fixed',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'pong' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: 100, output_tokens: 20 },
    });
  });

  it('puts reasoning_content or reasoning first as a thinking block with an empty signature', () => {
    const a = fromOpenAIResponse(completion({ reasoning_content: 'let me think', content: 'done' }), opts);
    expect(a.content).toEqual([
      { type: 'thinking', thinking: 'let me think', signature: '' },
      { type: 'text', text: 'done' },
    ]);
    const b = fromOpenAIResponse(completion({ reasoning: 'other field', content: 'done' }), opts);
    expect(b.content[0]).toEqual({ type: 'thinking', thinking: 'other field', signature: '' });
  });

  it('skips empty content', () => {
    expect(fromOpenAIResponse(completion({ content: '' }), opts).content).toEqual([]);
    expect(fromOpenAIResponse(completion({ content: null }), opts).content).toEqual([]);
  });

  it('turns tool_calls into tool_use blocks and forces stop_reason tool_use', () => {
    const message = fromOpenAIResponse(
      completion(
        {
          content: 'Running it.',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } },
            { id: 'call_2', type: 'function', function: { name: 'Read', arguments: '{"file_path":"/a"}' } },
          ],
        },
        'stop',
      ),
      opts,
    );
    expect(message.content).toEqual([
      { type: 'text', text: 'Running it.' },
      { type: 'tool_use', id: 'call_1', name: 'Bash', input: { command: 'ls' } },
      { type: 'tool_use', id: 'call_2', name: 'Read', input: { file_path: '/a' } },
    ]);
    expect(message.stop_reason).toBe('tool_use');
  });

  it('uses {} for invalid, empty or non-object arguments and synthesises missing ids', () => {
    const message = fromOpenAIResponse(
      completion(
        {
          tool_calls: [
            { id: '', type: 'function', function: { name: 'A', arguments: '{"broken' } },
            { id: 'c2', type: 'function', function: { name: 'B', arguments: '' } },
            { id: 'c3', type: 'function', function: { name: 'C', arguments: '[1,2]' } },
          ],
        },
        'tool_calls',
      ),
      opts,
    );
    expect(message.content.map((b) => (b.type === 'tool_use' ? b.input : undefined))).toEqual([{}, {}, {}]);
    const first = message.content[0];
    expect(first?.type === 'tool_use' && first.id).toMatch(/^toolu_[0-9a-f]{24}$/);
  });

  it('maps finish reasons, and a tool_calls reason without calls to end_turn', () => {
    expect(fromOpenAIResponse(completion({ content: 'x' }, 'length'), opts).stop_reason).toBe('max_tokens');
    expect(fromOpenAIResponse(completion({ content: 'x' }, 'content_filter'), opts).stop_reason).toBe('refusal');
    expect(fromOpenAIResponse(completion({ content: 'x' }, null), opts).stop_reason).toBe('end_turn');
    expect(fromOpenAIResponse(completion({ content: 'x' }, 'tool_calls'), opts).stop_reason).toBe('end_turn');
  });

  it('maps cached tokens to cache_read_input_tokens, keeping input_tokens uncached', () => {
    const message = fromOpenAIResponse(
      completion({ content: 'x' }, 'stop', {
        prompt_tokens: 1000,
        completion_tokens: 5,
        prompt_tokens_details: { cached_tokens: 800 },
      }),
      opts,
    );
    expect(message.usage).toEqual({ input_tokens: 200, output_tokens: 5, cache_read_input_tokens: 800 });
  });

  it('estimates usage when the backend reports none', () => {
    const message = fromOpenAIResponse(completion({ content: 'x'.repeat(40) }, 'stop', null), {
      ...opts,
      inputTokens: 77,
    });
    expect(message.usage).toEqual({ input_tokens: 77, output_tokens: 10 });
  });

  it('makes a msg_ id when none is given, and surfaces a refusal as text', () => {
    const message = fromOpenAIResponse(completion({ refusal: 'I cannot help with that.' }, 'content_filter'), {
      model: 'm',
    });
    expect(message.id).toMatch(/^msg_[0-9a-f]{24}$/);
    expect(message.content).toEqual([{ type: 'text', text: 'I cannot help with that.' }]);
  });

  it('throws a ProxyError for a response without choices', () => {
    const res = { ...completion({ content: 'x' }), choices: [] };
    expect(() => fromOpenAIResponse(res, opts)).toThrow(ProxyError);
  });

  it('names what is wrong with a body that is not a chat completion, instead of crashing on it', () => {
    const bad = (value: unknown) => () => fromOpenAIResponse(value as ChatCompletion, { ...opts, backend: 'gpu' });
    const { choices: _omitted, ...noChoices } = completion({ content: 'x' });
    expect(bad(noChoices)).toThrow(expect.objectContaining({ code: 'upstream_bad_response', status: 502, backend: 'gpu', message: expect.stringContaining('without a `choices` array') }));
    expect(bad({ ...noChoices, choices: null })).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
    expect(bad({ ...noChoices, choices: [{ index: 0 }] })).toThrow(/a choice without a `message`/);
    expect(bad(null)).toThrow(expect.objectContaining({ code: 'upstream_bad_response' }));
    expect(bad({ ...noChoices, choices: [{ index: 0, message: { role: 'assistant', tool_calls: [{ id: 'c' }] } }] })).toThrow(/tool call without a function name/);
    expect(bad({ error: { message: 'quota exceeded', code: 429 } })).toThrow(
      expect.objectContaining({ code: 'upstream_error_body', type: 'rate_limit_error', message: expect.stringContaining('quota exceeded') }),
    );
  });
});

describe('mapFinishReason', () => {
  it.each([
    ['stop', 'end_turn'],
    ['length', 'max_tokens'],
    ['tool_calls', 'tool_use'],
    ['function_call', 'tool_use'],
    ['content_filter', 'refusal'],
    [null, 'end_turn'],
    [undefined, 'end_turn'],
  ] as const)('%s -> %s', (reason, expected) => {
    expect(mapFinishReason(reason)).toBe(expected);
  });
});
