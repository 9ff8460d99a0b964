import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  openaiText,
  openaiTextChunks,
  openaiToolCallChunks,
  startFakeUpstream,
  type FakeUpstream,
} from '../../../../tests/support/fake-upstream.js';
import { openaiBackend, parseSSE, postMessages, startProxy, type TestProxy } from '../../../../tests/support/proxy.js';
import { fixturesPresent, fixturesRequired, loadFixture } from '../../../../tests/support/fixtures.js';

const TOOLS: Anthropic.Tool[] = [
  {
    name: 'Bash',
    description: 'Run a shell command',
    input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] },
  },
];

describe('POST /v1/messages through an OpenAI-compatible upstream, with the Anthropic SDK', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) } });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  it('answers messages.create (non-stream) from a streamed upstream answer', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('Hello from Qwen', { usage: { prompt_tokens: 12, completion_tokens: 4 } }) });
    const message = await px.client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from Qwen' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.input_tokens).toBe(12);
    expect(message.usage.output_tokens).toBe(4);
    const sent = upstream.chatRequests[0]!.body as Record<string, unknown>;
    expect(sent.model).toBe('qwen3-coder:30b');
    expect(sent.stream).toBe(true);
    expect(sent.messages).toEqual([{ role: 'user', content: 'hi' }]);
  });

  it('streams with messages.stream().finalMessage(), text arriving in pieces', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('one two three', { pieces: 3 }) });
    const stream = px.client.messages.stream({
      model: 'claude-opus-4-8',
      max_tokens: 100,
      messages: [{ role: 'user', content: 'count' }],
    });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: 'text', text: 'one two three' }]);
    expect(texts.length).toBeGreaterThan(1);
  });

  it('does a full tool round trip: tool_use out, tool_result back as a role:"tool" message', async () => {
    upstream.enqueue(
      { kind: 'openai-stream', chunks: openaiToolCallChunks([{ name: 'Bash', args: { command: 'echo hi' } }], { fragments: 4 }) },
      { kind: 'openai-stream', chunks: openaiTextChunks('It printed hi.') },
    );
    const first = await px.client.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 200, tools: TOOLS, messages: [{ role: 'user', content: 'run echo hi' }] })
      .finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const toolUse = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(toolUse.name).toBe('Bash');
    expect(toolUse.input).toEqual({ command: 'echo hi' });

    const second = await px.client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 200,
      tools: TOOLS,
      messages: [
        { role: 'user', content: 'run echo hi' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'hi\n' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'It printed hi.' }]);
    const sent = upstream.chatRequests[1]!.body as { messages: Array<Record<string, unknown>>; tools: unknown[] };
    expect(sent.tools).toHaveLength(1);
    expect(sent.messages[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: toolUse.id, function: { name: 'Bash' } }] });
    expect(sent.messages[2]).toEqual({ role: 'tool', tool_call_id: toolUse.id, content: 'hi\n' });
  });

  it('streams several parallel tool calls as separate tool_use blocks', async () => {
    upstream.enqueue({
      kind: 'openai-stream',
      chunks: openaiToolCallChunks(
        [
          { name: 'Bash', args: { command: 'ls' } },
          { name: 'Bash', args: { command: 'pwd' } },
        ],
        { fragments: 3 },
      ),
    });
    const message = await px.client.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 200, tools: TOOLS, messages: [{ role: 'user', content: 'two' }] })
      .finalMessage();
    const uses = message.content.filter((b) => b.type === 'tool_use');
    expect(uses.map((u) => u.input)).toEqual([{ command: 'ls' }, { command: 'pwd' }]);
    expect(new Set(uses.map((u) => u.id)).size).toBe(2);
  });

  it('keeps a multi-byte character split across network chunks intact', async () => {
    const chunk = (content: string) =>
      `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
    const bytes = Buffer.from(chunk('price: 5€ 🎉'));
    const euro = bytes.indexOf(Buffer.from('€'));
    const end = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
    upstream.enqueue({
      kind: 'raw',
      headers: { 'content-type': 'text/event-stream' },
      parts: [bytes.subarray(0, euro + 1), { delayMs: 30 }, bytes.subarray(euro + 1), end],
    });
    const message = await px.client.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'price?' }] })
      .finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'price: 5€ 🎉' }]);
  });

  it('accepts a server that ignores stream:true and answers with one JSON completion', async () => {
    upstream.enqueue({ kind: 'json', body: openaiText('whole answer') });
    const streamed = await px.client.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage();
    expect(streamed.content).toEqual([{ type: 'text', text: 'whole answer' }]);
  });

  it('sends the exact Anthropic SSE sequence', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('ok', { usage: { prompt_tokens: 3, completion_tokens: 1 } }) });
    const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    const events = parseSSE(res.text).map((e) => e.event);
    expect(events[0]).toBe('message_start');
    expect(events).toContain('ping');
    expect(events.slice(-2)).toEqual(['message_delta', 'message_stop']);
    expect(events.filter((e) => e === 'content_block_start')).toHaveLength(1);
    for (const e of parseSSE(res.text)) expect((e.data as { type: string }).type).toBe(e.event);
  });

  it('sends pings while the upstream is silent', async () => {
    const slow = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url) },
      server: { pingIntervalMs: 50 },
    });
    try {
      upstream.enqueue({ kind: 'delay', ms: 400, then: { kind: 'openai-stream', chunks: openaiTextChunks('late') } });
      const res = await postMessages(slow.url, { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] });
      const events = parseSSE(res.text).map((e) => e.event);
      const firstStart = events.indexOf('message_start');
      expect(events.slice(0, firstStart).filter((e) => e === 'ping').length).toBeGreaterThanOrEqual(3);
      expect(events.at(-1)).toBe('message_stop');
    } finally {
      await slow.close();
    }
  });

  describe.skipIf(!fixturesPresent && !fixturesRequired)('real Claude Code request bodies (../shared fixtures)', () => {
    it('accepts tool-turn2.json as sent (system message in place, tool_result as role:"tool")', async () => {
      const { raw } = loadFixture('tool-turn2.json');
      upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('done') });
      const res = await postMessages(px.url, raw, { 'anthropic-beta': 'claude-code-20250219,mid-conversation-system-2026-04-07' });
      expect(res.status).toBe(200);
      expect(parseSSE(res.text).at(-1)?.event).toBe('message_stop');
      const sent = upstream.chatRequests[0]!.body as { messages: Array<{ role: string }>; tools: unknown[] };
      const roles = sent.messages.map((m) => m.role);
      expect(roles[0]).toBe('system');
      expect(roles).toContain('tool');
      expect(roles.filter((r) => r === 'system').length).toBe(2);
      expect(sent.tools.length).toBe(24);
    });
  });
});
