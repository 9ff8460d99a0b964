import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, Plugin } from '../../src/plugin.js';
import {
  anthropicText,
  anthropicTextEvents,
  anthropicToolUse,
  anthropicToolUseEvents,
  openaiTextChunks,
  openaiToolCallChunks,
  startFakeUpstream,
  type FakeUpstream,
} from '../../tests/support/fake-upstream.js';
import { startPageServer, type PageServer } from '../../tests/support/page-server.js';
import { openaiBackend, parseSSE, postMessages, startProxy, type TestProxy } from '../../tests/support/proxy.js';

// End to end on loopback: the official SDK asks the proxy, the fake upstream plays the model and
// asks for web_fetch, the proxy fetches the local page server. Nothing leaves 127.0.0.1.
const WEB_FETCH = { type: 'web_fetch_20250910', name: 'web_fetch', max_uses: 3 } as const;
const MODEL = 'claude-opus-4-8';
const WEB_FETCH_OPTIONS = { allowPrivateAddresses: ['127.0.0.1/32'] };

interface ChatBody {
  tools?: Array<{ type: string; function: { name: string; parameters: unknown } }>;
  messages: Array<{ role: string; content: unknown; tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>; tool_call_id?: string }>;
}
const chatBody = (upstream: FakeUpstream, i: number) => upstream.chatRequests[i]!.body as ChatBody;
const fetchCall = (url: string, id = 'call_fetch1') => ({ kind: 'openai-stream' as const, chunks: openaiToolCallChunks([{ name: 'web_fetch', args: { url }, id }], { content: 'Let me read it.' }) });

describe('web-fetch through an OpenAI-format backend', () => {
  let upstream: FakeUpstream;
  let pages: PageServer;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    pages = await startPageServer();
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [['web-fetch', WEB_FETCH_OPTIONS]] });
  });
  afterAll(async () => {
    await px?.close();
    await pages?.close();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  const ask = (url: string, tools: Anthropic.Messages.ToolUnion[] = [WEB_FETCH]) => ({
    model: MODEL,
    max_tokens: 500,
    messages: [{ role: 'user' as const, content: `What does ${url} say?` }],
    tools,
  });

  it('non-stream: the proxy fetches the page, the backend reads it, the client gets server_tool_use + web_fetch_tool_result + the answer', async () => {
    const url = `${pages.url}/page`;
    upstream.enqueue(fetchCall(url), { kind: 'openai-stream', chunks: openaiTextChunks('It says hello.', { usage: { prompt_tokens: 300, completion_tokens: 5 } }) });
    const { data: message, response } = await px.client.messages.create(ask(url)).withResponse();

    expect(message.content).toEqual([
      { type: 'text', text: 'Let me read it.' },
      { type: 'server_tool_use', id: 'srvtoolu_fetch1', name: 'web_fetch', input: { url } },
      {
        type: 'web_fetch_tool_result',
        tool_use_id: 'srvtoolu_fetch1',
        content: {
          type: 'web_fetch_result',
          url,
          retrieved_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
          content: { type: 'document', source: { type: 'text', media_type: 'text/plain', data: expect.stringContaining('# Hello from the local page') }, title: 'The Test & Page', citations: null },
        },
      },
      { type: 'text', text: 'It says hello.' },
    ]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.server_tool_use).toEqual({ web_search_requests: 0, web_fetch_requests: 1 });
    expect(message.usage.input_tokens).toBeGreaterThan(300);
    expect(response.headers.get('x-llm-proxy-warning')).toBeNull();

    // The backend was given a client-style tool, then the conversation with the page's text.
    const first = chatBody(upstream, 0);
    expect(first.tools?.map((tool) => tool.function.name)).toEqual(['web_fetch']);
    expect(first.tools?.[0]?.function.parameters).toMatchObject({ properties: { url: { type: 'string' } }, required: ['url'] });
    const second = chatBody(upstream, 1);
    expect(second.messages.at(-2)).toMatchObject({ role: 'assistant', content: 'Let me read it.', tool_calls: [{ id: 'call_fetch1', function: { name: 'web_fetch', arguments: JSON.stringify({ url }) } }] });
    expect(second.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: 'call_fetch1' });
    const toolText = second.messages.at(-1)!.content as string;
    expect(toolText).toContain(`URL: ${url}\nTitle: The Test & Page`);
    expect(toolText).toContain('# Hello from the local page');
    expect(toolText).not.toContain('do not show');
    expect(px.logs.some((line) => line.includes('web-fetch: fetched') && line.includes('/page'))).toBe(true);
  });

  it('stream: the same blocks arrive as SSE content blocks with consecutive indices (official SDK stream)', async () => {
    const url = `${pages.url}/plain`;
    upstream.enqueue(fetchCall(url, 'call_s1'), { kind: 'openai-stream', chunks: openaiTextChunks('Just text, it says.') });
    const stream = px.client.messages.stream(ask(url));
    const final = await stream.finalMessage();
    expect(final.content.map((block) => block.type)).toEqual(['text', 'server_tool_use', 'web_fetch_tool_result', 'text']);
    expect(final.content[1]).toEqual({ type: 'server_tool_use', id: 'srvtoolu_s1', name: 'web_fetch', input: { url } });
    expect(final.content[2]).toMatchObject({ type: 'web_fetch_tool_result', content: { type: 'web_fetch_result', url, content: { source: { data: 'just text' } } } });
    expect(final.content[3]).toMatchObject({ type: 'text', text: 'Just text, it says.' });
    expect(final.stop_reason).toBe('end_turn');

    // Another question (the same one would be answered by the cache), read as raw SSE.
    upstream.enqueue(fetchCall(`${url}?raw`, 'call_s2'), { kind: 'openai-stream', chunks: openaiTextChunks('Again.') });
    const raw = await postMessages(px.url, { ...ask(`${url}?raw`), stream: true });
    expect(upstream.chatRequests).toHaveLength(4);
    const events = parseSSE(raw.text).map((frame) => frame.data as { type: string; index?: number; content_block?: { type: string } });
    const starts = events.filter((event) => event.type === 'content_block_start').map((event) => [event.index, event.content_block?.type]);
    expect(starts).toEqual([
      [0, 'text'],
      [1, 'server_tool_use'],
      [2, 'web_fetch_tool_result'],
      [3, 'text'],
    ]);
    expect(events.filter((event) => event.type === 'message_start')).toHaveLength(1);
    expect(events.filter((event) => event.type === 'message_delta')).toHaveLength(1);
    expect(events.at(-1)?.type).toBe('message_stop');
  });

  const refusals: Array<[string, string]> = [
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://10.0.0.1/', 'private'],
    ['http://[::1]/', 'loopback'],
    ['http://[::ffff:10.0.0.1]/', 'private'],
    ['http://100.64.0.1/', 'CGNAT'],
    ['http://0.0.0.0/', 'unspecified'],
  ];
  it.each(refusals)('a refused address (%s) is a web_fetch_tool_result error for the client and a tool error for the model', async (url, what) => {
    upstream.enqueue(fetchCall(url, 'call_r'), { kind: 'openai-stream', chunks: openaiTextChunks('I could not read it.') });
    const message = await px.client.messages.create(ask(url));
    expect(message.content[2]).toEqual({ type: 'web_fetch_tool_result', tool_use_id: 'srvtoolu_r', content: { type: 'web_fetch_tool_result_error', error_code: 'url_not_allowed' } });
    expect(message.content[3]).toMatchObject({ type: 'text', text: 'I could not read it.' });
    const toolMessage = chatBody(upstream, 1).messages.at(-1)!;
    expect(toolMessage.content).toEqual(expect.stringMatching(new RegExp(`^\\[tool error\\] web_fetch failed: url_not_allowed \\(.*${what}`)));
  });

  it('a redirect from the allowed local server to the metadata address is refused at the hop', async () => {
    upstream.enqueue(fetchCall(`${pages.url}/to-metadata`, 'call_rd'), { kind: 'openai-stream', chunks: openaiTextChunks('Refused.') });
    const message = await px.client.messages.create(ask(`${pages.url}/to-metadata`));
    expect(message.content[2]).toMatchObject({ content: { type: 'web_fetch_tool_result_error', error_code: 'url_not_allowed' } });
    expect(chatBody(upstream, 1).messages.at(-1)!.content).toContain('169.254.169.254 is link-local');
  });

  it('allowed_domains and blocked_domains of the definition are honoured', async () => {
    const url = `${pages.url}/page`;
    upstream.enqueue(fetchCall(url, 'call_d'), { kind: 'openai-stream', chunks: openaiTextChunks('Blocked.') });
    const message = await px.client.messages.create(ask(url, [{ ...WEB_FETCH, blocked_domains: ['127.0.0.1'] }]));
    expect(message.content[2]).toMatchObject({ content: { error_code: 'url_not_allowed' } });
    expect(chatBody(upstream, 1).messages.at(-1)!.content).toContain('127.0.0.1 is in blocked_domains');
  });

  it('max_uses: a fetch past it is max_uses_exceeded, and the rounds are bounded', async () => {
    const url = `${pages.url}/plain`;
    // The model asks again and again; max_uses 1 allows one fetch and at most two more rounds.
    upstream.enqueue(fetchCall(url, 'call_m1'), fetchCall(url, 'call_m2'), fetchCall(url, 'call_m3'), fetchCall(url, 'call_m4'));
    const message = await px.client.messages.create(ask(url, [{ ...WEB_FETCH, max_uses: 1 }]));
    const results = message.content.filter((block) => block.type === 'web_fetch_tool_result');
    expect(results.map((block) => (block.content.type === 'web_fetch_result' ? 'ok' : block.content.error_code))).toEqual(['ok', 'max_uses_exceeded', 'max_uses_exceeded']);
    expect(upstream.chatRequests).toHaveLength(3);
    expect(upstream.pending).toBe(1);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.server_tool_use?.web_fetch_requests).toBe(1);
  });

  it('a forced tool_choice forces only the first round', async () => {
    const url = `${pages.url}/plain`;
    upstream.enqueue(fetchCall(url, 'call_f'), { kind: 'openai-stream', chunks: openaiTextChunks('Done.') });
    await px.client.messages.create({ ...ask(url), tool_choice: { type: 'tool', name: 'web_fetch' } });
    expect((upstream.chatRequests[0]!.body as { tool_choice: unknown }).tool_choice).toEqual({ type: 'function', function: { name: 'web_fetch' } });
    expect((upstream.chatRequests[1]!.body as { tool_choice: unknown }).tool_choice).toBe('auto');
  });

  it('a web_fetch call next to a client tool: the fetch runs, the answer ends with stop_reason tool_use for the client', async () => {
    const url = `${pages.url}/plain`;
    upstream.enqueue({
      kind: 'openai-stream',
      chunks: openaiToolCallChunks([
        { name: 'Bash', args: { command: 'ls' }, id: 'call_bash' },
        { name: 'web_fetch', args: { url }, id: 'call_both' },
      ]),
    });
    const bash: Anthropic.Tool = { name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } };
    const message = await px.client.messages.create(ask(url, [bash, WEB_FETCH]));
    expect(message.content.map((block) => block.type)).toEqual(['tool_use', 'server_tool_use', 'web_fetch_tool_result']);
    expect(message.stop_reason).toBe('tool_use');
    expect(upstream.chatRequests).toHaveLength(1);

    // The next turn carries the server blocks back: the backend gets them as the tool call and result it made.
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('Both done.') });
    const next = await px.client.messages.create({
      ...ask(url, [bash, WEB_FETCH]),
      messages: [
        { role: 'user', content: `What does ${url} say?` },
        { role: 'assistant', content: message.content as Anthropic.ContentBlockParam[] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'call_bash', content: 'file.txt' }] },
      ],
    });
    expect(next.content).toEqual([{ type: 'text', text: 'Both done.' }]);
    const sent = chatBody(upstream, 1).messages;
    expect(sent.slice(-3)).toMatchObject([
      { role: 'assistant', tool_calls: [{ id: 'call_bash', function: { name: 'Bash' } }, { id: 'srvtoolu_both', function: { name: 'web_fetch' } }] },
      { role: 'tool', tool_call_id: 'srvtoolu_both', content: expect.stringContaining('just text') },
      { role: 'tool', tool_call_id: 'call_bash', content: 'file.txt' },
    ]);
  });

  it('a page that never answers ends as url_not_accessible within the time limit, not as a failed request', async () => {
    const proxy = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [['web-fetch', { ...WEB_FETCH_OPTIONS, timeoutMs: 300 }]] });
    try {
      const closed = pages.socketClosed('/hang');
      upstream.enqueue(fetchCall(`${pages.url}/hang`, 'call_h'), { kind: 'openai-stream', chunks: openaiTextChunks('It did not answer.') });
      const message = await proxy.client.messages.create(ask(`${pages.url}/hang`));
      expect(message.content[2]).toMatchObject({ content: { error_code: 'url_not_accessible' } });
      expect(message.content[3]).toMatchObject({ text: 'It did not answer.' });
      await closed;
    } finally {
      await proxy.close();
    }
  });

  it('a page that never ends is cut at maxBytes and said to be cut', async () => {
    const proxy = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [['web-fetch', { ...WEB_FETCH_OPTIONS, maxBytes: '64kb' }]] });
    try {
      const closed = pages.socketClosed('/forever');
      upstream.enqueue(fetchCall(`${pages.url}/forever`, 'call_big'), { kind: 'openai-stream', chunks: openaiTextChunks('Long.') });
      const message = await proxy.client.messages.create(ask(`${pages.url}/forever`));
      const result = message.content[2] as Anthropic.WebFetchToolResultBlock;
      expect(result.content.type).toBe('web_fetch_result');
      const data = result.content.type === 'web_fetch_result' ? result.content.content.source.data : '';
      expect(data.startsWith('a'.repeat(65_536))).toBe(true);
      expect(data.endsWith('[content cut: the page is longer than the proxy reads]')).toBe(true);
      await closed;
    } finally {
      await proxy.close();
    }
  });

  it('the backend failing in a later round: the client gets an error, never a cut answer that looks whole', async () => {
    // A question of its own: an answer of an earlier test would come from the cache.
    const url = `${pages.url}/plain?round-failure`;
    upstream.enqueue(fetchCall(url, 'call_e1'), { kind: 'error', status: 500, message: 'model crashed' }, fetchCall(url, 'call_e2'), { kind: 'error', status: 500, message: 'model crashed' });
    const res = await postMessages(px.url, { ...ask(url), stream: false });
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.text).toContain('model crashed');
    const streamed = await postMessages(px.url, { ...ask(url), stream: true });
    const events = parseSSE(streamed.text);
    expect(events.some((frame) => (frame.data as { content_block?: { type: string } }).content_block?.type === 'web_fetch_tool_result')).toBe(true);
    expect(events.at(-1)?.event).toBe('error');
    expect(events.some((frame) => frame.event === 'message_stop')).toBe(false);
  });

  it('other server tools are still removed with the warning (server-tools runs after web-fetch)', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('ok') });
    const { response } = await px.client.messages.create(ask('nothing', [WEB_FETCH, { type: 'web_search_20250305', name: 'web_search' }])).withResponse();
    expect(response.headers.get('x-llm-proxy-warning')).toBe('web_search removed: backend "gpu" cannot run Anthropic server tools');
    expect(chatBody(upstream, 0).tools?.map((tool) => tool.function.name)).toEqual(['web_fetch']);
  });
});

describe('web-fetch through an Anthropic-format backend that is not Anthropic (streaming upstream)', () => {
  let upstream: FakeUpstream;
  let pages: PageServer;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'anthropic' });
    pages = await startPageServer();
    px = await startProxy({ backend: 'vllm', backends: { vllm: { type: 'anthropic', url: upstream.url } }, plugins: [['web-fetch', WEB_FETCH_OPTIONS]] });
  });
  afterAll(async () => {
    await px?.close();
    await pages?.close();
    await upstream?.close();
  });

  it('streams text, server_tool_use, web_fetch_tool_result, text; the backend got a tool_result with the page', async () => {
    const url = `${pages.url}/page`;
    upstream.enqueue(
      { kind: 'anthropic-stream', events: anthropicToolUseEvents('web_fetch', { url }, { text: 'Looking.', toolUseId: 'toolu_a1', usage: { input_tokens: 50, output_tokens: 10 } }) },
      { kind: 'anthropic-stream', events: anthropicTextEvents('The page greets you.', { usage: { input_tokens: 200, output_tokens: 6 } }) },
    );
    const final = await px.client.messages.stream({ model: MODEL, max_tokens: 300, messages: [{ role: 'user', content: `Read ${url}` }], tools: [WEB_FETCH] }).finalMessage();
    expect(final.content.map((block) => block.type)).toEqual(['text', 'server_tool_use', 'web_fetch_tool_result', 'text']);
    expect(final.content[1]).toMatchObject({ id: 'srvtoolu_a1', input: { url } });
    expect(final.usage).toMatchObject({ input_tokens: 250, output_tokens: 16, server_tool_use: { web_fetch_requests: 1 } });

    const first = upstream.chatRequests[0]!.body as { tools: Array<Record<string, unknown>> };
    expect(first.tools).toEqual([expect.objectContaining({ name: 'web_fetch', input_schema: expect.objectContaining({ required: ['url'] }) })]);
    expect(first.tools[0]).not.toHaveProperty('type');
    const second = upstream.chatRequests[1]!.body as { messages: Array<{ role: string; content: Array<Record<string, unknown>> }> };
    expect(second.messages.at(-2)).toEqual({ role: 'assistant', content: [{ type: 'text', text: 'Looking.' }, { type: 'tool_use', id: 'toolu_a1', name: 'web_fetch', input: { url } }] });
    expect(second.messages.at(-1)).toEqual({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_a1', content: expect.stringContaining('# Hello from the local page') }] });
  });

  it('non-stream with whole JSON answers from the backend', async () => {
    const url = `${pages.url}/plain`;
    upstream.enqueue({ kind: 'json', body: anthropicToolUse('web_fetch', { url }, { toolUseId: 'toolu_j1' }) }, { kind: 'json', body: anthropicText('Plain, it is.') });
    const res = await postMessages(px.url, { model: MODEL, max_tokens: 300, messages: [{ role: 'user', content: `Read ${url}` }], tools: [WEB_FETCH] });
    expect(res.status).toBe(200);
    const message = JSON.parse(res.text) as Anthropic.Message;
    expect(message.content.map((block) => block.type)).toEqual(['server_tool_use', 'web_fetch_tool_result', 'text']);
    expect(message.content[1]).toMatchObject({ tool_use_id: 'srvtoolu_j1', content: { type: 'web_fetch_result', content: { source: { data: 'just text' } } } });
    expect(message.stop_reason).toBe('end_turn');
  });
});

describe("web-fetch leaves Anthropic's own API alone", () => {
  const pretendAnthropicApi: Plugin = {
    name: 'pretend-anthropic-api',
    apply({ providers }) {
      providers.decorate(
        (backend) =>
          new Proxy(backend, {
            get(target, property) {
              if (property === 'isAnthropicApi') return true;
              const value: unknown = Reflect.get(target, property, target);
              return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
            },
          }) satisfies Backend,
      );
    },
  };
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'anthropic' });
    px = await startProxy({ backend: 'claude', backends: { claude: { type: 'anthropic', url: upstream.url } }, plugins: [pretendAnthropicApi, ['web-fetch', WEB_FETCH_OPTIONS]] });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });

  it('the server tool goes upstream as sent and a client tool_use named web_fetch is not run', async () => {
    upstream.enqueue({ kind: 'anthropic-stream', events: anthropicToolUseEvents('web_fetch', { url: 'http://127.0.0.1:9/' }, { toolUseId: 'toolu_x' }) });
    const message = await px.client.messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'read' }], tools: [WEB_FETCH] });
    expect((upstream.chatRequests[0]!.body as { tools: unknown }).tools).toEqual([WEB_FETCH]);
    expect(message.content).toEqual([{ type: 'tool_use', id: 'toolu_x', name: 'web_fetch', input: { url: 'http://127.0.0.1:9/' } }]);
    expect(upstream.chatRequests).toHaveLength(1);
  });
});
