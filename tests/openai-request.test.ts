import { fixturesPresent, fixturesRequired, loadFixture } from './support/fixtures.js';
import { describe, expect, it } from 'vitest';
import type { MessageParam, MessagesRequest, RequestContentBlock } from '../src/anthropic/types.js';
import { toOpenAIRequest } from '../src/openai/request.js';
import type { ChatAssistantMessage } from '../src/openai/types.js';

const base = (messages: MessageParam[], extra: Partial<MessagesRequest> = {}): MessagesRequest => ({
  model: 'claude-sonnet-4-5',
  max_tokens: 1024,
  messages,
  ...extra,
});
const opts = { model: 'qwen3-coder', stream: false };
const convert = (messages: MessageParam[], extra: Partial<MessagesRequest> = {}) =>
  toOpenAIRequest(base(messages, extra), opts).messages;

/** A block type this proxy does not know, as a newer client could send it. */
const unknownBlock = (block: { type: string; [key: string]: unknown }) => block as unknown as RequestContentBlock;

describe('toOpenAIRequest: system', () => {
  it('turns a string system prompt into a leading system message', () => {
    expect(convert([{ role: 'user', content: 'hi' }], { system: 'be brief' })).toEqual([
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi' },
    ]);
  });

  it('joins system text blocks and drops cache_control', () => {
    const messages = convert([{ role: 'user', content: 'hi' }], {
      system: [
        { type: 'text', text: 'one' },
        { type: 'text', text: 'two', cache_control: { type: 'ephemeral' } },
      ],
    });
    expect(messages[0]).toEqual({ role: 'system', content: 'one\n\ntwo' });
  });

  it('adds no system message when there is no system prompt', () => {
    expect(convert([{ role: 'user', content: 'hi' }])).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('keeps role:system messages in place', () => {
    const messages = convert(
      [
        { role: 'user', content: 'first' },
        { role: 'system', content: 'mid-conversation note' },
        { role: 'assistant', content: 'ok' },
        { role: 'system', content: [{ type: 'text', text: 'block note' }] },
      ],
      { system: 'top' },
    );
    expect(messages).toEqual([
      { role: 'system', content: 'top' },
      { role: 'user', content: 'first' },
      { role: 'system', content: 'mid-conversation note' },
      { role: 'assistant', content: 'ok' },
      { role: 'system', content: 'block note' },
    ]);
  });
});

describe('toOpenAIRequest: user content', () => {
  it('uses a plain string when there is only text', () => {
    const messages = convert([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'a', cache_control: { type: 'ephemeral' } },
          { type: 'text', text: 'b' },
        ],
      },
    ]);
    expect(messages).toEqual([{ role: 'user', content: 'a\n\nb' }]);
  });

  it('uses content parts when images are present (base64 as data URL, url as is)', () => {
    const messages = convert([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
    expect(messages).toEqual([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'look' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
    ]);
  });

  it('turns text documents into text with their title', () => {
    const messages = convert([
      {
        role: 'user',
        content: [
          { type: 'document', title: 'notes.txt', source: { type: 'text', media_type: 'text/plain', data: 'hello' } },
          { type: 'document', source: { type: 'content', content: 'inline' } },
          {
            type: 'document',
            title: 'parts',
            source: { type: 'content', content: [{ type: 'text', text: 'p1' }] },
          },
          {
            type: 'document',
            title: 'b64.txt',
            source: { type: 'base64', media_type: 'text/plain', data: Buffer.from('decoded').toString('base64') },
          },
        ],
      },
    ]);
    expect(messages).toEqual([
      {
        role: 'user',
        content: '[document: notes.txt]\nhello\n\ninline\n\n[document: parts]\n\np1\n\n[document: b64.txt]\ndecoded',
      },
    ]);
  });

  it('replaces PDFs and URL documents with a visible note, never dropping them', () => {
    const messages = convert([
      {
        role: 'user',
        content: [
          { type: 'document', title: 'spec', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } },
          { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } },
          { type: 'document', source: { type: 'url', url: 'https://example.com/a.pdf' } },
        ],
      },
    ]);
    expect(messages).toEqual([
      {
        role: 'user',
        content: [
          '[document: spec omitted: this backend cannot read documents]',
          '[document: application/pdf omitted: this backend cannot read documents]',
          '[document: https://example.com/a.pdf omitted: this backend cannot read documents]',
        ].join('\n\n'),
      },
    ]);
  });

  it('keeps the text of unknown blocks and a placeholder for the rest', () => {
    const messages = convert([
      {
        role: 'user',
        content: [
          unknownBlock({ type: 'search_result', text: 'found it', source: 'x' }),
          unknownBlock({ type: 'container_upload', file_id: 'f1' }),
        ],
      },
    ]);
    expect(messages).toEqual([{ role: 'user', content: 'found it\n\n[container_upload block omitted]' }]);
  });
});

describe('toOpenAIRequest: tool results', () => {
  it('emits each tool_result as a tool message, in order, before the rest of the user message', () => {
    const messages = convert([
      {
        role: 'user',
        content: [
          { type: 'text', text: 'and also this' },
          { type: 'tool_result', tool_use_id: 'toolu_1', content: 'one' },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: [{ type: 'text', text: 'two' }] },
        ],
      },
    ]);
    expect(messages).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'one' },
      { role: 'tool', tool_call_id: 'toolu_2', content: 'two' },
      { role: 'user', content: 'and also this' },
    ]);
  });

  it('flattens nested content, marks errors, and tolerates missing content', () => {
    const messages = convert([
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_1',
            content: [
              { type: 'text', text: 'line 1' },
              { type: 'text', text: 'line 2' },
            ],
          },
          { type: 'tool_result', tool_use_id: 'toolu_2', content: 'command not found', is_error: true },
          { type: 'tool_result', tool_use_id: 'toolu_3' },
          { type: 'tool_result', tool_use_id: 'toolu_4', is_error: true },
        ],
      },
    ]);
    expect(messages).toEqual([
      { role: 'tool', tool_call_id: 'toolu_1', content: 'line 1\n\nline 2' },
      { role: 'tool', tool_call_id: 'toolu_2', content: '[tool error] command not found' },
      { role: 'tool', tool_call_id: 'toolu_3', content: '' },
      { role: 'tool', tool_call_id: 'toolu_4', content: '[tool error]' },
    ]);
  });

  it('moves tool_result images to a following user message that names the tool result', () => {
    const messages = convert([
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_shot',
            content: [
              { type: 'text', text: 'screenshot taken' },
              { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: 'QUJD' } },
            ],
          },
          {
            type: 'tool_result',
            tool_use_id: 'toolu_only_image',
            content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/x.png' } }],
          },
          { type: 'text', text: 'what do you see?' },
        ],
      },
    ]);
    expect(messages).toEqual([
      { role: 'tool', tool_call_id: 'toolu_shot', content: 'screenshot taken' },
      {
        role: 'tool',
        tool_call_id: 'toolu_only_image',
        content: '[1 image(s) attached in the next user message]',
      },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Images from tool result toolu_shot:' },
          { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,QUJD' } },
          { type: 'text', text: 'Images from tool result toolu_only_image:' },
          { type: 'image_url', image_url: { url: 'https://example.com/x.png' } },
          { type: 'text', text: 'what do you see?' },
        ],
      },
    ]);
  });
});

describe('toOpenAIRequest: assistant content', () => {
  it('turns tool_use into tool_calls with the text as content', () => {
    const messages = convert([
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 'sig' },
          { type: 'text', text: 'Let me check.' },
          { type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/a' } },
          { type: 'tool_use', id: 'toolu_2', name: 'Bash', input: { command: 'ls' } },
        ],
      },
    ]);
    expect(messages).toEqual([
      {
        role: 'assistant',
        content: 'Let me check.',
        tool_calls: [
          { id: 'toolu_1', type: 'function', function: { name: 'Read', arguments: '{"file_path":"/a"}' } },
          { id: 'toolu_2', type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } },
        ],
      },
    ]);
  });

  it('uses null content when there are only tool calls', () => {
    const [message] = convert([
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Glob', input: {} }] },
    ]);
    expect(message).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'Glob', arguments: '{}' } }],
    });
  });

  it('drops thinking and redacted_thinking, and skips assistant messages left empty', () => {
    const messages = convert([
      { role: 'user', content: 'q' },
      {
        role: 'assistant',
        content: [
          { type: 'thinking', thinking: 'hmm', signature: 'sig' },
          { type: 'redacted_thinking', data: 'xyz' },
        ],
      },
      { role: 'assistant', content: '' },
      { role: 'assistant', content: [] },
      { role: 'user', content: 'again' },
    ]);
    expect(messages).toEqual([
      { role: 'user', content: 'q' },
      { role: 'user', content: 'again' },
    ]);
  });

  it('keeps a string assistant message and unknown assistant blocks as text', () => {
    const messages = convert([
      { role: 'assistant', content: 'plain' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'searching' },
          unknownBlock({ type: 'server_tool_use', id: 'srvtoolu_1', name: 'web_search', input: {} }),
        ],
      },
    ]);
    expect(messages).toEqual([
      { role: 'assistant', content: 'plain' },
      { role: 'assistant', content: 'searching\n\n[server_tool_use block omitted]' },
    ]);
  });
});

describe('toOpenAIRequest: parameters', () => {
  const tools: MessagesRequest['tools'] = [
    {
      name: 'Bash',
      description: 'Run a command',
      input_schema: { type: 'object', properties: { command: { type: 'string' } } },
      cache_control: { type: 'ephemeral' },
    },
    { name: 'Custom', type: 'custom', input_schema: { type: 'object' } },
    { name: 'web_search', type: 'web_search_20250305' } as unknown as NonNullable<MessagesRequest['tools']>[number],
  ];

  it('maps custom tools to functions and skips server tools', () => {
    const req = toOpenAIRequest(base([{ role: 'user', content: 'x' }], { tools }), opts);
    expect(req.tools).toEqual([
      {
        type: 'function',
        function: {
          name: 'Bash',
          description: 'Run a command',
          parameters: { type: 'object', properties: { command: { type: 'string' } } },
        },
      },
      { type: 'function', function: { name: 'Custom', parameters: { type: 'object' } } },
    ]);
  });

  it.each([
    [{ type: 'auto' } as const, 'auto'],
    [{ type: 'any' } as const, 'required'],
    [{ type: 'none' } as const, 'none'],
    [{ type: 'tool', name: 'Bash' } as const, { type: 'function', function: { name: 'Bash' } }],
  ])('maps tool_choice %j', (toolChoice, expected) => {
    const req = toOpenAIRequest(base([{ role: 'user', content: 'x' }], { tools, tool_choice: toolChoice }), opts);
    expect(req.tool_choice).toEqual(expected);
    expect(req).not.toHaveProperty('parallel_tool_calls');
  });

  it('sets parallel_tool_calls false for disable_parallel_tool_use, only with tools', () => {
    const choice = { type: 'auto', disable_parallel_tool_use: true } as const;
    const withTools = toOpenAIRequest(base([{ role: 'user', content: 'x' }], { tools, tool_choice: choice }), opts);
    expect(withTools.parallel_tool_calls).toBe(false);
    const without = toOpenAIRequest(base([{ role: 'user', content: 'x' }], { tool_choice: choice }), opts);
    expect(without).not.toHaveProperty('parallel_tool_calls');
    expect(without).not.toHaveProperty('tool_choice');
    expect(without).not.toHaveProperty('tools');
  });

  it('passes sampling parameters and stop sequences', () => {
    const req = toOpenAIRequest(
      base([{ role: 'user', content: 'x' }], { stop_sequences: ['END'], temperature: 0.2, top_p: 0.9, top_k: 40 }),
      opts,
    );
    expect(req).toMatchObject({ stop: ['END'], temperature: 0.2, top_p: 0.9, top_k: 40 });
  });

  it('caps max_tokens only when a cap is given', () => {
    const req = base([{ role: 'user', content: 'x' }], { max_tokens: 64000 });
    expect(toOpenAIRequest(req, opts).max_tokens).toBe(64000);
    expect(toOpenAIRequest(req, { ...opts, maxTokensCap: 8192 }).max_tokens).toBe(8192);
    expect(toOpenAIRequest({ ...req, max_tokens: 100 }, { ...opts, maxTokensCap: 8192 }).max_tokens).toBe(100);
  });

  it('asks for usage when streaming and sets nothing stream-related otherwise', () => {
    const req = base([{ role: 'user', content: 'x' }]);
    expect(toOpenAIRequest(req, { ...opts, stream: true })).toMatchObject({
      stream: true,
      stream_options: { include_usage: true },
    });
    const plain = toOpenAIRequest(req, opts);
    expect(plain).not.toHaveProperty('stream');
    expect(plain).not.toHaveProperty('stream_options');
  });

  it('uses the given model and never forwards Anthropic-only or unknown fields', () => {
    const req = toOpenAIRequest(
      base([{ role: 'user', content: 'x' }], {
        metadata: { user_id: 'u' },
        thinking: { type: 'enabled', budget_tokens: 1000 },
        output_config: { effort: 'high' },
        context_management: { edits: [] },
        stream: true,
        some_future_field: 1,
      }),
      opts,
    );
    expect(Object.keys(req).sort()).toEqual(['max_tokens', 'messages', 'model']);
    expect(req.model).toBe('qwen3-coder');
  });
});

describe.skipIf(!fixturesPresent && !fixturesRequired)('toOpenAIRequest: Claude Code fixtures (skipped when ../shared is absent)', () => {
  const load = (name: string): MessagesRequest => loadFixture(name).body as MessagesRequest;

  it('translates tool-turn2.json: system kept in place, tool_use -> tool_calls, tool_result -> tool', () => {
    const request = load('tool-turn2.json');
    const out = toOpenAIRequest(request, { model: 'qwen3-coder', stream: true, maxTokensCap: 32768 });

    expect(out.messages.map((m) => m.role)).toEqual(['system', 'user', 'system', 'assistant', 'tool']);
    expect(out.messages[0]?.content).toContain('You are a Claude agent');
    expect(out.messages[1]?.content).toContain('run echo hello-from-tool with Bash');
    expect(out.messages[2]?.content).toContain('Available agent types');
    expect(out.messages[3]).toEqual({
      role: 'assistant',
      content: null,
      tool_calls: [
        {
          id: 'toolu_2bb385f01043b1a8f19224ac',
          type: 'function',
          function: { name: 'Bash', arguments: '{"command":"echo hello-from-tool"}' },
        },
      ],
    } satisfies ChatAssistantMessage);
    expect(out.messages[4]).toEqual({
      role: 'tool',
      tool_call_id: 'toolu_2bb385f01043b1a8f19224ac',
      content: 'hello-from-tool',
    });

    expect(out.tools?.map((t) => t.function.name)).toEqual(request.tools?.map((t) => t.name));
    expect(out.max_tokens).toBe(32768);
    expect(out.stream_options).toEqual({ include_usage: true });
    expect(Object.keys(out).sort()).toEqual(['max_tokens', 'messages', 'model', 'stream', 'stream_options', 'tools']);
    expect(JSON.stringify(out.messages).includes('cache_control')).toBe(false);
    for (const tool of out.tools ?? []) {
      expect(Object.keys(tool.function).sort()).toEqual(['description', 'name', 'parameters']);
    }
  });

  it('translates pong-turn1.json and tool-turn1.json without losing the in-place system message', () => {
    for (const name of ['pong-turn1.json', 'tool-turn1.json']) {
      const out = toOpenAIRequest(load(name), { model: 'm', stream: true });
      expect(out.messages.map((m) => m.role)).toEqual(['system', 'user', 'system']);
    }
  });
});
