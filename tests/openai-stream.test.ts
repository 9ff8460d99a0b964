import { describe, expect, it } from 'vitest';
import { MessageAccumulator, collectMessage } from '../src/anthropic/accumulate.js';
import type { StreamEvent } from '../src/anthropic/types.js';
import { ProxyError } from '../src/errors.js';
import { fromOpenAIResponse } from '../src/openai/response.js';
import { OpenAIStreamTranslator, translateOpenAISSE, translateOpenAIStream } from '../src/openai/stream.js';
import { parseJSONEvents } from '../src/upstream/json-stream.js';
import { readSSE } from '../src/upstream/sse-reader.js';
import type {
  ChatCompletionChunk,
  ChatCompletionDelta,
  ChatToolCallDelta,
  ChatUsage,
  FinishReason,
} from '../src/openai/types.js';

const chunk = (delta: ChatCompletionDelta, finish: FinishReason | null = null): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'qwen3-coder',
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usageChunk = (usage: ChatUsage): ChatCompletionChunk => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'qwen3-coder',
  choices: [],
  usage,
});
const call = (index: number, args: string, id?: string, name?: string): ChatCompletionDelta => ({
  tool_calls: [
    {
      index,
      ...(id === undefined ? {} : { id, type: 'function' as const }),
      function: { ...(name === undefined ? {} : { name }), arguments: args },
    } satisfies ChatToolCallDelta,
  ],
});

const opts = { model: 'claude-sonnet-4-5', id: 'msg_1', inputTokens: 42 };
const messageStart: StreamEvent = {
  type: 'message_start',
  message: {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: { input_tokens: 42, output_tokens: 0 },
  },
};
const ping: StreamEvent = { type: 'ping' };
const start = (index: number, content_block: Extract<StreamEvent, { type: 'content_block_start' }>['content_block']) =>
  ({ type: 'content_block_start', index, content_block }) as const;
const text = (index: number, t: string) =>
  ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: t } }) as const;
const thinking = (index: number, t: string) =>
  ({ type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: t } }) as const;
const json = (index: number, partial_json: string) =>
  ({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json } }) as const;
const stop = (index: number) => ({ type: 'content_block_stop', index }) as const;
const toolStart = (index: number, id: string, name: string) =>
  start(index, { type: 'tool_use', id, name, input: {} });

function run(chunks: ChatCompletionChunk[], options = opts): StreamEvent[] {
  const translator = new OpenAIStreamTranslator(options);
  return [...chunks.flatMap((c) => translator.push(c)), ...translator.finish()];
}

describe('OpenAIStreamTranslator', () => {
  it('emits the exact Anthropic sequence for a text answer', () => {
    const events = run([
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'Hel' }),
      chunk({ content: 'lo' }),
      chunk({}, 'stop'),
      usageChunk({ prompt_tokens: 50, completion_tokens: 2 }),
    ]);
    expect(events).toEqual([
      messageStart,
      ping,
      start(0, { type: 'text', text: '' }),
      text(0, 'Hel'),
      text(0, 'lo'),
      stop(0),
      {
        type: 'message_delta',
        delta: { stop_reason: 'end_turn', stop_sequence: null },
        usage: { input_tokens: 50, output_tokens: 2 },
      },
      { type: 'message_stop' },
    ]);
  });

  it('returns each chunk’s events right away', () => {
    const translator = new OpenAIStreamTranslator(opts);
    expect(translator.push(chunk({ role: 'assistant' }))).toEqual([messageStart, ping]);
    expect(translator.push(chunk({ content: 'a' }))).toEqual([start(0, { type: 'text', text: '' }), text(0, 'a')]);
    expect(translator.push(chunk({ content: 'b' }))).toEqual([text(0, 'b')]);
  });

  it('turns reasoning_content and reasoning into a thinking block closed before the text', () => {
    const events = run([
      chunk({ reasoning_content: 'think ' }),
      chunk({ reasoning: 'more' }),
      chunk({ content: 'answer' }),
      chunk({}, 'stop'),
    ]);
    expect(events.slice(2, 9)).toEqual([
      start(0, { type: 'thinking', thinking: '', signature: '' }),
      thinking(0, 'think '),
      thinking(0, 'more'),
      stop(0),
      start(1, { type: 'text', text: '' }),
      text(1, 'answer'),
      stop(1),
    ]);
  });

  it('takes one of reasoning_content / reasoning when a backend sends both', () => {
    const events = run([chunk({ reasoning_content: 'same', reasoning: 'same' })]);
    expect(events.filter((e) => e.type === 'content_block_delta')).toEqual([thinking(0, 'same')]);
  });

  it('streams parallel tool calls sent in fragments, one block each, and forces tool_use', () => {
    const events = run([
      chunk({ content: 'Checking.' }),
      chunk(call(0, '', 'call_a', 'Bash')),
      chunk(call(0, '{"comm')),
      chunk(call(0, 'and":"ls"}')),
      chunk(call(1, '', 'call_b', 'Read')),
      chunk(call(1, '{"file_path":')),
      chunk(call(1, '"/a"}')),
      chunk({}, 'stop'),
    ]);
    expect(events.slice(2)).toEqual([
      start(0, { type: 'text', text: '' }),
      text(0, 'Checking.'),
      stop(0),
      toolStart(1, 'call_a', 'Bash'),
      json(1, '{"comm'),
      json(1, 'and":"ls"}'),
      stop(1),
      toolStart(2, 'call_b', 'Read'),
      json(2, '{"file_path":'),
      json(2, '"/a"}'),
      stop(2),
      {
        type: 'message_delta',
        delta: { stop_reason: 'tool_use', stop_sequence: null },
        usage: { output_tokens: expect.any(Number) as number },
      },
      { type: 'message_stop' },
    ]);
  });

  it('handles several calls in one chunk (llama.cpp / Ollama style)', () => {
    const events = run([
      chunk({
        tool_calls: [
          { index: 0, id: 'c0', type: 'function', function: { name: 'A', arguments: '{"x":1}' } },
          { index: 1, id: 'c1', type: 'function', function: { name: 'B', arguments: '{"y":2}' } },
        ],
      }, 'tool_calls'),
    ]);
    expect(events.slice(2, 8)).toEqual([
      toolStart(0, 'c0', 'A'),
      json(0, '{"x":1}'),
      stop(0),
      toolStart(1, 'c1', 'B'),
      json(1, '{"y":2}'),
      stop(1),
    ]);
  });

  it('buffers an interleaved call until the open call’s arguments are complete JSON', () => {
    const translator = new OpenAIStreamTranslator(opts);
    translator.push(chunk(call(0, '{"a"', 'c0', 'A')));
    // Index 1 arrives while index 0 is incomplete: nothing is emitted for it yet.
    expect(translator.push(chunk(call(1, '{"b"', 'c1', 'B')))).toEqual([]);
    // Index 0 completes: its block closes and index 1 opens with its buffered arguments.
    expect(translator.push(chunk(call(0, ':1}')))).toEqual([
      json(0, ':1}'),
      stop(0),
      toolStart(1, 'c1', 'B'),
      json(1, '{"b"'),
    ]);
    expect(translator.push(chunk(call(1, ':2}')))).toEqual([json(1, ':2}')]);
    expect(translator.finish().slice(0, 2)).toEqual([
      stop(1),
      { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: expect.anything() },
    ]);
  });

  it('flushes still-buffered calls at finish, in the order they were first seen', () => {
    const events = run([
      chunk(call(0, '{"a":', 'c0', 'A')),
      chunk(call(1, '{"b":2}', 'c1', 'B')),
      chunk(call(2, '{"c":3}', 'c2', 'C')),
      chunk(call(0, '1')), // index 0 never becomes complete JSON (truncated)
    ]);
    expect(events.slice(2, -2)).toEqual([
      toolStart(0, 'c0', 'A'),
      json(0, '{"a":'),
      json(0, '1'),
      stop(0),
      toolStart(1, 'c1', 'B'),
      json(1, '{"b":2}'),
      stop(1),
      toolStart(2, 'c2', 'C'),
      json(2, '{"c":3}'),
      stop(2),
    ]);
  });

  it('synthesises a missing id, waits for the name, and ignores repeated names', () => {
    const events = run([
      chunk(call(0, '{"q"')),
      chunk(call(0, ':1}', undefined, 'Search')),
      chunk(call(0, '', undefined, 'Search')),
    ]);
    const blockStart = events[2];
    expect(blockStart).toMatchObject({ type: 'content_block_start', index: 0 });
    const block = blockStart?.type === 'content_block_start' ? blockStart.content_block : undefined;
    expect(block).toMatchObject({ type: 'tool_use', name: 'Search', input: {} });
    expect(block?.type === 'tool_use' && block.id).toMatch(/^toolu_[0-9a-f]{24}$/);
    expect(events[3]).toEqual(json(0, '{"q":1}'));
  });

  it('separates calls that reuse one index with different ids', () => {
    const events = run([chunk(call(0, '{}', 'c0', 'A')), chunk(call(0, '{}', 'c1', 'B'))]);
    expect(events.filter((e) => e.type === 'content_block_start')).toEqual([
      toolStart(0, 'c0', 'A'),
      toolStart(1, 'c1', 'B'),
    ]);
  });

  it('closes a tool block when text follows it', () => {
    const events = run([chunk(call(0, '{}', 'c0', 'A')), chunk({ content: 'after' })]);
    expect(events.slice(2, 7)).toEqual([
      toolStart(0, 'c0', 'A'),
      json(0, '{}'),
      stop(0),
      start(1, { type: 'text', text: '' }),
      text(1, 'after'),
    ]);
  });

  it('throws a ProxyError for arguments that arrive after their block was closed', () => {
    const translator = new OpenAIStreamTranslator(opts);
    translator.push(chunk(call(0, '{"a"', 'c0', 'A')));
    translator.push(chunk({ content: 'text in the middle' }));
    expect(() => translator.push(chunk(call(0, ':1}')))).toThrow(ProxyError);
  });

  it('reads usage from a usage-only final chunk, with cached tokens', () => {
    const events = run([
      chunk({ content: 'hi' }, 'stop'),
      usageChunk({ prompt_tokens: 1200, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 1000 } }),
    ]);
    expect(events.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'end_turn', stop_sequence: null },
      usage: { input_tokens: 200, output_tokens: 7, cache_read_input_tokens: 1000 },
    });
  });

  it('estimates output tokens when the backend sends no usage', () => {
    const events = run([chunk({ content: 'x'.repeat(20) }), chunk({ reasoning: 'y'.repeat(20) }, 'length')]);
    expect(events.at(-2)).toEqual({
      type: 'message_delta',
      delta: { stop_reason: 'max_tokens', stop_sequence: null },
      usage: { output_tokens: 10 },
    });
  });

  it('maps content_filter to refusal', () => {
    expect(run([chunk({ content: 'no' }, 'content_filter')]).at(-2)).toMatchObject({
      delta: { stop_reason: 'refusal' },
    });
  });

  it('produces a valid empty message when finished without any chunk', () => {
    const translator = new OpenAIStreamTranslator({ model: 'm' });
    const events = translator.finish();
    expect(events.map((e) => e.type)).toEqual(['message_start', 'ping', 'message_delta', 'message_stop']);
    expect(events[0]).toMatchObject({ message: { id: expect.stringMatching(/^msg_/) as string, model: 'm' } });
  });

  it('returns nothing from a second finish and throws on push after finish', () => {
    const translator = new OpenAIStreamTranslator(opts);
    translator.push(chunk({ content: 'a' }));
    expect(translator.finish().at(-1)).toEqual({ type: 'message_stop' });
    expect(translator.finish()).toEqual([]);
    expect(() => translator.push(chunk({ content: 'b' }))).toThrow(/after finish/);
  });
});

describe('translateOpenAIStream', () => {
  it('yields a chunk’s events before the next chunk is read, and finishes at the end', async () => {
    const log: string[] = [];
    async function* upstream(): AsyncGenerator<ChatCompletionChunk> {
      log.push('chunk 1');
      yield chunk({ content: 'a' });
      log.push('chunk 2');
      yield chunk({ content: 'b' }, 'stop');
    }
    const types: string[] = [];
    for await (const event of translateOpenAIStream(upstream(), opts)) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') log.push(`delta ${event.delta.text}`);
      types.push(event.type);
    }
    expect(log).toEqual(['chunk 1', 'delta a', 'chunk 2', 'delta b']);
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
  });

  it('lets an upstream error through without a message_stop', async () => {
    async function* upstream(): AsyncGenerator<ChatCompletionChunk> {
      yield chunk({ content: 'a' });
      throw new Error('connection reset');
    }
    const types: string[] = [];
    await expect(async () => {
      for await (const event of translateOpenAIStream(upstream(), opts)) types.push(event.type);
    }).rejects.toThrow('connection reset');
    expect(types).not.toContain('message_stop');
  });
});

describe('translateOpenAIStream: an answer ends only when the upstream says so', () => {
  async function run(chunks: ChatCompletionChunk[], sawDone?: boolean) {
    const types: string[] = [];
    async function* upstream(): AsyncGenerator<ChatCompletionChunk> {
      yield* chunks;
    }
    const options = sawDone === undefined ? { ...opts, backend: 'gpu' } : { ...opts, backend: 'gpu', sawDone: () => sawDone };
    try {
      for await (const event of translateOpenAIStream(upstream(), options)) types.push(event.type);
      return { types };
    } catch (error) {
      return { types, error: error as ProxyError };
    }
  }

  it('content and a clean end without finish_reason or [DONE] is upstream_incomplete, with no message_stop', async () => {
    const { types, error } = await run([chunk({ content: 'a' }), chunk({ content: 'b' })], false);
    expect(error).toMatchObject({ code: 'upstream_incomplete', status: 502, backend: 'gpu' });
    expect(types).toContain('content_block_delta');
    expect(types).not.toContain('message_stop');
  });

  it('nothing at all, or [DONE] alone, is upstream_empty before any event', async () => {
    expect(await run([])).toMatchObject({ types: [], error: { code: 'upstream_empty' } });
    expect(await run([chunk({ role: 'assistant', content: '' })], true)).toMatchObject({ error: { code: 'upstream_empty' } });
  });

  it('content then [DONE] without finish_reason is complete (end_turn)', async () => {
    const { types, error } = await run([chunk({ content: 'a' })], true);
    expect(error).toBeUndefined();
    expect(types.slice(-2)).toEqual(['message_delta', 'message_stop']);
  });

  it('an {error} chunk is an upstream error carrying its message, typed by its code', async () => {
    const errorChunk = (error: unknown) => ({ ...chunk({}), choices: [], error }) as ChatCompletionChunk;
    const midway = await run([chunk({ content: 'a' }), errorChunk({ message: 'engine died', type: 'InternalServerError', code: 500 })]);
    expect(midway.error).toMatchObject({ code: 'upstream_stream_error', type: 'api_error', status: 502, backend: 'gpu' });
    expect(midway.error?.message).toContain('engine died');
    expect(midway.types).not.toContain('message_stop');
    const limited = await run([errorChunk({ message: 'slow down', code: '429' })]);
    expect(limited.error).toMatchObject({ type: 'rate_limit_error', status: 429 });
    expect(limited.types).toEqual([]);
  });
});

describe('round trip: OpenAI stream -> Anthropic events -> message', () => {
  it('equals fromOpenAIResponse of the same whole response', async () => {
    const usage: ChatUsage = {
      prompt_tokens: 900,
      completion_tokens: 60,
      prompt_tokens_details: { cached_tokens: 512 },
    };
    const chunks = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ reasoning_content: 'The user wants ' }),
      chunk({ reasoning_content: 'two files.' }),
      chunk({ content: 'Reading ' }),
      chunk({ content: 'both.' }),
      chunk(call(0, '', 'call_a', 'Read')),
      chunk(call(0, '{"file_path":"/a"}')),
      chunk(call(1, '{"file_path"', 'call_b', 'Read')),
      chunk(call(1, ':"/b"}')),
      chunk({}, 'tool_calls'),
      usageChunk(usage),
    ];
    async function* upstream(): AsyncGenerator<ChatCompletionChunk> {
      yield* chunks;
    }
    const streamed = await collectMessage(translateOpenAIStream(upstream(), opts));

    const whole = fromOpenAIResponse(
      {
        id: 'chatcmpl-1',
        object: 'chat.completion',
        created: 1,
        model: 'qwen3-coder',
        choices: [
          {
            index: 0,
            finish_reason: 'tool_calls',
            message: {
              role: 'assistant',
              reasoning_content: 'The user wants two files.',
              content: 'Reading both.',
              tool_calls: [
                { id: 'call_a', type: 'function', function: { name: 'Read', arguments: '{"file_path":"/a"}' } },
                { id: 'call_b', type: 'function', function: { name: 'Read', arguments: '{"file_path":"/b"}' } },
              ],
            },
          },
        ],
        usage,
      },
      opts,
    );
    expect(streamed).toEqual(whole);
    expect(streamed.stop_reason).toBe('tool_use');
  });

  it('rebuilds interleaved calls with their own arguments', () => {
    const accumulator = new MessageAccumulator();
    for (const event of run([
      chunk(call(0, '{"a"', 'c0', 'A')),
      chunk(call(1, '{"b"', 'c1', 'B')),
      chunk(call(1, ':2}')),
      chunk(call(0, ':1}')),
    ])) {
      accumulator.push(event);
    }
    expect(accumulator.complete).toBe(true);
    expect(accumulator.message().content).toEqual([
      { type: 'tool_use', id: 'c0', name: 'A', input: { a: 1 } },
      { type: 'tool_use', id: 'c1', name: 'B', input: { b: 2 } },
    ]);
  });
});

describe('translateOpenAISSE: an OpenAI event stream’s bytes translated in one loop', () => {
  const sse = (...items: Array<ChatCompletionChunk | string>) =>
    items.map((item) => (typeof item === 'string' ? item : `data: ${JSON.stringify(item)}\n\n`)).join('');
  const answer = [
    chunk({ role: 'assistant', content: '' }),
    chunk({ reasoning_content: 'Two files. ' }),
    chunk({ content: 'Reading ✓ both.' }),
    chunk(call(0, '{"file_path"', 'call_a', 'Read')),
    chunk(call(0, ':"/a"}')),
    chunk({}, 'tool_calls'),
    usageChunk({ prompt_tokens: 900, completion_tokens: 60 }),
  ];
  const bodies: Record<string, string> = {
    'a whole answer and [DONE]': sse(...answer, 'data: [DONE]\n\n'),
    '[DONE] without its blank line': sse(...answer, 'data: [DONE]'),
    'keep-alives, comments and event names': sse(': ping\n\n', 'data:\n\n', answer[0]!, 'event: chunk\n', answer[2]!, ': ping\n\n', answer[5]!, 'data: [DONE]\n\n'),
    'a finish_reason and no [DONE]': sse(...answer),
    'content then [DONE], no finish_reason': sse(answer[2]!, 'data: [DONE]\n\n'),
    'content then [DONE] without its blank line, no finish_reason': sse(answer[2]!, 'data: [DONE]'),
    'content that just stops': sse(answer[0]!, answer[2]!),
    'nothing': '',
    'a chunk that is not JSON': sse(answer[2]!, 'data: {"choices": [\n\n', answer[5]!),
    'an error chunk': sse(answer[2]!, { ...chunk({}), choices: [], error: { message: 'engine died', code: 500 } }),
    'bytes after [DONE]': sse(answer[2]!, answer[5]!, 'data: [DONE]\n\n', 'data: {not json}\n\n'),
  };
  const options = { ...opts, backend: 'gpu' };

  async function outcome(events: AsyncIterable<StreamEvent>) {
    const seen: StreamEvent[] = [];
    try {
      for await (const event of events) seen.push(event);
      return { seen };
    } catch (error) {
      return { seen, error: { code: (error as ProxyError).code, message: (error as ProxyError).message } };
    }
  }
  /** The body as chunks cut at `cuts` (byte offsets), and how many of them were read. */
  function chunked(text: string, cuts: number[]) {
    const bytes = Buffer.from(text);
    const edges = [0, ...cuts.filter((cut) => cut > 0 && cut < bytes.length), bytes.length];
    const read = { count: 0 };
    async function* body(): AsyncGenerator<Uint8Array> {
      for (let i = 1; i < edges.length; i++) {
        read.count = i;
        yield bytes.subarray(edges[i - 1], edges[i]);
      }
    }
    return { body, read, chunks: edges.length - 1 };
  }
  /** The stages as the OpenAI provider chained them before they were joined. */
  function staged(body: AsyncIterable<Uint8Array>) {
    let sawDone = false;
    const chunks = parseJSONEvents<ChatCompletionChunk>(readSSE(body), { backend: 'gpu', isDone: (data) => (sawDone = data.trim() === '[DONE]') });
    return translateOpenAIStream(chunks, { ...options, sawDone: () => sawDone });
  }

  for (const [name, text] of Object.entries(bodies)) {
    it(`${name}: the same events and error as the staged readers, wherever the chunks are cut`, async () => {
      const whole = await outcome(staged(chunked(text, []).body()));
      expect(await outcome(translateOpenAISSE(chunked(text, []).body(), options))).toEqual(whole);
      const length = Buffer.byteLength(text);
      for (let cut = 1; cut < length; cut += 7) {
        expect(await outcome(translateOpenAISSE(chunked(text, [cut, cut + 3]).body(), options))).toEqual(whole);
      }
      expect(await outcome(translateOpenAISSE(chunked(text, Array.from({ length }, (_, i) => i)).body(), options))).toEqual(whole);
    });
  }

  it('stops reading at [DONE], as the staged readers do', async () => {
    const text = bodies['bytes after [DONE]']!;
    const bytes = Buffer.from(text);
    const done = bytes.indexOf('data: [DONE]');
    const cuts = [done, bytes.indexOf('\n\n', done) + 2];
    const joined = chunked(text, cuts);
    const { error } = await outcome(translateOpenAISSE(joined.body(), options));
    expect(error).toBeUndefined();
    expect(joined.read.count).toBe(2);
    expect(joined.chunks).toBe(3);
  });

  it('yields a chunk’s events before the next chunk is read', async () => {
    const log: string[] = [];
    async function* body(): AsyncGenerator<Uint8Array> {
      log.push('chunk 1');
      yield Buffer.from(sse(chunk({ content: 'a' })));
      log.push('chunk 2');
      yield Buffer.from(sse(chunk({ content: 'b' }, 'stop')));
    }
    for await (const event of translateOpenAISSE(body(), options)) {
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') log.push(`delta ${event.delta.text}`);
    }
    expect(log).toEqual(['chunk 1', 'delta a', 'chunk 2', 'delta b']);
  });
});
