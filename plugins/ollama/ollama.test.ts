import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOllamaEmbedder, ollama } from './index.js';
import { createProxy } from '../../src/proxy.js';
import type { UserConfig } from '../../src/config/types.js';
import {
  ollamaLine,
  ollamaTextLines,
  ollamaThinkingLines,
  ollamaToolCallLines,
  startFakeOllama,
  type FakeOllama,
} from '../../tests/support/fake-ollama.js';
import { parseSSE, postMessages, startProxy, type TestProxy } from '../../tests/support/proxy.js';

const TOOLS: Anthropic.Tool[] = [
  { name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } },
];
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

interface SentMessage {
  role: string;
  content: string;
  images?: string[];
  tool_name?: string;
  tool_call_id?: string;
  tool_calls?: Array<{ id?: string; function: { name: string; arguments: unknown } }>;
}
interface SentChat {
  model: string;
  stream: boolean;
  messages: SentMessage[];
  tools?: unknown[];
  options: Record<string, unknown>;
  keep_alive?: unknown;
  think?: unknown;
}
const sent = (fake: FakeOllama, i: number): SentChat => fake.chatRequests[i]!.body as SentChat;

describe('the ollama plugin against a fake Ollama, with the Anthropic SDK', () => {
  let fake: FakeOllama;
  let px: TestProxy;
  beforeAll(async () => {
    fake = await startFakeOllama();
    px = await startProxy({
      backend: 'local',
      plugins: [ollama()],
      server: { pingIntervalMs: 50, firstByteTimeoutMs: 200 },
      backends: {
        local: { type: 'ollama', url: fake.url, model: 'qwen3-coder:30b', keepAlive: '30m', embedModel: 'nomic-embed-text' },
        thinker: { type: 'ollama', url: `${fake.url}/v1`, model: 'qwen3:8b', numCtx: 32768, think: 'high', keepAlive: -1, maxTokens: 1000 },
        small: { type: 'ollama', url: fake.url, model: 'gemma3:4b' },
      },
    });
  });
  afterAll(async () => {
    await px?.close();
    await fake?.close();
  });
  beforeEach(() => fake.reset());

  it('answers messages.create from the NDJSON stream, with usage, num_ctx, num_predict and keep_alive', async () => {
    fake.enqueue({ kind: 'stream', lines: ollamaTextLines('Hello from Ollama', { promptEvalCount: 31, evalCount: 5 }) });
    const message = await px.client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 4096,
      stop_sequences: ['END'],
      system: [{ type: 'text', text: 'Be brief.' }],
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(message.content).toEqual([{ type: 'text', text: 'Hello from Ollama' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage).toMatchObject({ input_tokens: 31, output_tokens: 5 });
    const body = sent(fake, 0);
    expect(body).toMatchObject({ model: 'qwen3-coder:30b', stream: true, keep_alive: '30m' });
    expect(body.options).toEqual({ num_ctx: 65536, num_predict: 4096, stop: ['END'] });
    expect(body.messages).toEqual([
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'hi' },
    ]);
    expect(body.think).toBeUndefined();
  });

  it('streams text as it arrives and maps done_reason "length" to max_tokens', async () => {
    fake.enqueue({ kind: 'stream', lines: ollamaTextLines('one two three four', { pieces: 4, doneReason: 'length' }) });
    const stream = px.client.messages.stream({ model: 'claude-opus-4-1', max_tokens: 4, messages: [{ role: 'user', content: 'count' }] });
    const texts: string[] = [];
    stream.on('text', (t) => texts.push(t));
    const final = await stream.finalMessage();
    expect(texts).toHaveLength(4);
    expect(final.content).toEqual([{ type: 'text', text: 'one two three four' }]);
    expect(final.stop_reason).toBe('max_tokens');
  });

  it('does a tool round trip: whole tool calls out, tool results back with tool_name and object arguments', async () => {
    fake.enqueue(
      { kind: 'stream', lines: ollamaToolCallLines([{ name: 'Bash', arguments: { command: 'ls' } }, { name: 'Bash', arguments: { command: 'pwd' } }], { text: 'Running.' }) },
      { kind: 'stream', lines: ollamaTextLines('Both ran.') },
    );
    const base = { model: 'claude-sonnet-4-5', max_tokens: 200, tools: TOOLS };
    const first = await px.client.messages.stream({ ...base, messages: [{ role: 'user', content: 'list and pwd' }] }).finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(uses.map((u) => u.input)).toEqual([{ command: 'ls' }, { command: 'pwd' }]);
    expect(first.content[0]).toEqual({ type: 'text', text: 'Running.' });
    expect(sent(fake, 0).tools).toEqual([{ type: 'function', function: { name: 'Bash', description: 'Run a shell command', parameters: TOOLS[0]!.input_schema } }]);

    const second = await px.client.messages.create({
      ...base,
      messages: [
        { role: 'user', content: 'list and pwd' },
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: uses[0]!.id, content: [{ type: 'text', text: 'a.txt' }] },
            { type: 'tool_result', tool_use_id: uses[1]!.id, content: 'no such dir', is_error: true },
          ],
        },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'Both ran.' }]);
    const messages = sent(fake, 1).messages;
    expect(messages[1]).toMatchObject({ role: 'assistant', content: 'Running.' });
    expect(messages[1]!.tool_calls!.map((c) => c.function)).toEqual([
      { name: 'Bash', arguments: { command: 'ls' } },
      { name: 'Bash', arguments: { command: 'pwd' } },
    ]);
    expect(messages[2]).toEqual({ role: 'tool', content: 'a.txt', tool_name: 'Bash', tool_call_id: uses[0]!.id });
    expect(messages[3]).toMatchObject({ role: 'tool', content: '[tool error] no such dir', tool_name: 'Bash' });
  });

  it('turns the thinking field into thinking blocks and follows the request thinking setting', async () => {
    fake.enqueue(
      { kind: 'stream', lines: ollamaThinkingLines('Let me think about it.', 'Forty-two.') },
      { kind: 'stream', lines: ollamaTextLines('ok') },
      { kind: 'stream', lines: ollamaTextLines('ok') },
    );
    const thinking = { type: 'enabled', budget_tokens: 2000 } as const;
    const message = await px.client.messages.create({ model: 'local/qwen3:8b', max_tokens: 3000, thinking, messages: [{ role: 'user', content: 'why?' }] });
    expect(message.content).toMatchObject([
      { type: 'thinking', thinking: 'Let me think about it.' },
      { type: 'text', text: 'Forty-two.' },
    ]);
    expect(sent(fake, 0).think).toBe(true);
    // A model that cannot think gets no `think` (Ollama would answer 400); disabled is always false.
    await px.client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 3000, thinking, messages: [{ role: 'user', content: 'x' }] });
    expect(sent(fake, 1).think).toBeUndefined();
    await px.client.messages.create({ model: 'local/qwen3:8b', max_tokens: 30, thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'x' }] });
    expect(sent(fake, 2).think).toBe(false);
  });

  it('sends the backend options num_ctx, keep_alive, think and the max_tokens cap', async () => {
    fake.enqueue({ kind: 'stream', lines: ollamaTextLines('ok') });
    await px.client.messages.create({ model: 'thinker', max_tokens: 16000, messages: [{ role: 'user', content: 'x' }] });
    const body = sent(fake, 0);
    expect(body).toMatchObject({ model: 'qwen3:8b', keep_alive: -1, think: 'high' });
    expect(body.options).toMatchObject({ num_ctx: 32768, num_predict: 1000 });
  });

  it('sends images as base64 without the data: prefix', async () => {
    fake.enqueue({ kind: 'stream', lines: ollamaTextLines('a red pixel') });
    await px.client.messages.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 50,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
          ],
        },
      ],
    });
    expect(sent(fake, 0).messages).toEqual([{ role: 'user', content: 'what is this?', images: [PNG] }]);
  });

  it('fails a model that is not pulled with `ollama pull <model>`, from its own check and from Ollama\'s 404', async () => {
    const res = await postMessages(px.url, { model: 'local/llama3.3:70b', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-should-retry')).toBe('false');
    const body = JSON.parse(res.text) as { error: { type: string; message: string } };
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toContain('ollama pull llama3.3:70b');
    expect(fake.chatRequests).toHaveLength(0);

    fake.enqueue({ kind: 'error', status: 404, error: 'model "qwen3-coder:30b" not found, try pulling it first' });
    const again = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] });
    expect(again.text).toContain('ollama pull qwen3-coder:30b');
  });

  it('warns about a model without the tools capability in /health, status and the log, and explains the 400', async () => {
    const health = (await (await fetch(`${px.url}/health`)).json()) as { backends: Record<string, { status: string; detail?: string; warnings?: string[] }> };
    expect(health.backends.local).toMatchObject({ status: 'ok', detail: 'Ollama 0.12.6', warnings: [] });
    expect(health.backends.small!.status).toBe('degraded');
    expect(health.backends.small!.warnings!.join()).toMatch(/gemma3:4b" does not support tools/);
    const status = (await (await fetch(`${px.url}/_llm-proxy/status`)).json()) as { backends: Record<string, Record<string, unknown>> };
    expect(String(status.backends.small!.warnings)).toMatch(/does not support tools/);
    expect(px.logs.some((line) => line.includes('"level":"warn"') && line.includes('does not support tools'))).toBe(true);

    const res = await postMessages(px.url, { model: 'small', max_tokens: 10, tools: TOOLS, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(400);
    expect(res.text).toContain('cannot call tools');
  });

  it('sends pings while the model loads (no headers yet), even past server.firstByteTimeoutMs', async () => {
    fake.enqueue({ kind: 'stream', lines: [{ delayMs: 450 }, ...ollamaTextLines('loaded')] });
    const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] });
    const events = parseSSE(res.text).map((e) => e.event);
    expect(events.indexOf('message_start')).toBeGreaterThanOrEqual(4);
    expect(events.slice(0, 4)).toEqual(['ping', 'ping', 'ping', 'ping']);
    expect(events.at(-1)).toBe('message_stop');
  });

  it('yields each line as it arrives, not at the end of the answer', async () => {
    fake.enqueue({ kind: 'stream', lines: [ollamaLine({ content: 'early ' }), { delayMs: 400 }, ...ollamaTextLines('late', { pieces: 1 })] });
    const started = Date.now();
    const stream = px.client.messages.stream({ model: 'claude-opus-4-1', max_tokens: 10, messages: [{ role: 'user', content: 'a slow model' }] });
    const firstText = await new Promise<number>((resolve) => stream.once('text', () => resolve(Date.now() - started)));
    const final = await stream.finalMessage();
    expect(firstText).toBeLessThan(300);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(final.content).toEqual([{ type: 'text', text: 'early late' }]);
  });

  it('ends with event: error when the stream is cut, ends without done, or carries an error line', async () => {
    fake.enqueue(
      { kind: 'stream', lines: ollamaTextLines('never finished', { pieces: 4 }), cutAfter: 2 },
      { kind: 'stream', lines: [ollamaLine({ content: 'half' })] },
      { kind: 'stream', lines: [ollamaLine({ content: 'half' }), { error: 'an error was encountered while running the model: CUDA error' }] },
    );
    for (const expected of ['was closed while streaming', 'before its final `done` line', 'CUDA error']) {
      // A distinct question each time: an earlier complete answer to the same one would be cached.
      const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: `cut ${expected}` }] });
      const events = parseSSE(res.text);
      expect(events.map((e) => e.event)).not.toContain('message_stop');
      expect(events.at(-1)!.event).toBe('error');
      expect(JSON.stringify(events.at(-1)!.data)).toContain(expected);
    }
  });

  it('embeds with the backend (embedModel) and with the standalone embedder, and lists models', async () => {
    const backend = px.proxy.kernel.backends.get('local')!;
    const vectors = await backend.embed!(['alpha', 'beta']);
    expect(vectors).toHaveLength(2);
    expect(vectors[0]).toHaveLength(8);
    expect(fake.requests.find((r) => r.path === '/api/embed')!.body).toEqual({ model: 'nomic-embed-text', input: ['alpha', 'beta'] });
    const embedder = createOllamaEmbedder({ url: fake.url, model: 'nomic-embed-text' });
    expect(await embedder.embed(['alpha'])).toEqual([vectors[0]]);
    const missing = createOllamaEmbedder({ url: fake.url, model: 'mxbai-embed-large' });
    await expect(missing.embed(['x'])).rejects.toMatchObject({ code: 'model_not_pulled', recommendations: expect.arrayContaining([expect.stringContaining('ollama pull mxbai-embed-large')]) });
    await missing.close();
    await embedder.close();
    expect(await backend.listModels!()).toContain('qwen3:8b');
  });
});

describe('the ollama plugin when Ollama is not running', () => {
  it('starts with a warning and fails requests naming the URL and `ollama serve`', async () => {
    const gone = await startFakeOllama();
    const url = gone.url;
    await gone.close();
    const px = await startProxy({ backend: 'local', plugins: [ollama()], backends: { local: { type: 'ollama', url, model: 'qwen3-coder:30b' } } });
    try {
      expect(px.logs.some((line) => line.includes('not reachable'))).toBe(true);
      const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
      expect(res.status).toBe(502);
      expect(res.text).toContain('ollama serve');
      expect(res.text).toContain(url);
      const health = (await (await fetch(`${px.url}/health`)).json()) as { status: string };
      expect(health.status).toBe('down');
    } finally {
      await px.close();
    }
  });

  it('rejects invalid options at start, naming the field', async () => {
    const config: UserConfig = { backend: 'local', plugins: [ollama()], backends: { local: { type: 'ollama', keepAlive: 'forever' } } };
    await expect(createProxy(config, { logSink: () => undefined })).rejects.toThrow(/backends\.local\.keepAlive/);
  });
});
