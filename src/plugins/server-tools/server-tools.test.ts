import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Backend, Plugin } from '../../kernel/types.js';
import { anthropicText, openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../tests/support/fake-upstream.js';
import { fixturesPresent, fixturesRequired, loadFixture } from '../../../tests/support/fixtures.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from '../../../tests/support/proxy.js';

const BASH: Anthropic.Tool = { name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } };
const WEB_SEARCH: Anthropic.WebSearchTool20250305 = { type: 'web_search_20250305', name: 'web_search', max_uses: 8 };
const WEB_FETCH: Anthropic.WebFetchTool20250910 = { type: 'web_fetch_20250910', name: 'web_fetch' };

/** What Claude Code's WebSearch tool sends: its own request with only the server tool, and tool_choice forcing it. */
const webSearchSubRequest = {
  model: 'claude-sonnet-4-5',
  max_tokens: 1000,
  system: [{ type: 'text', text: 'You are an assistant for performing a web search tool use' }],
  messages: [{ role: 'user', content: 'Perform a web search for the query: llm-proxy' }],
  tools: [WEB_SEARCH],
  tool_choice: { type: 'tool', name: 'web_search' },
};

/** Makes the backend named `claude` say it is Anthropic's own API (a test cannot reach api.anthropic.com). */
const pretendAnthropicApi: Plugin = {
  name: 'pretend-anthropic-api',
  apply({ providers }) {
    providers.decorate((backend, spec) =>
      spec.name !== 'claude'
        ? backend
        : (new Proxy(backend, {
          get(target, property) {
            if (property === 'isAnthropicApi') return true;
            const value: unknown = Reflect.get(target, property, target);
            return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
          },
        }) satisfies Backend),
    );
  },
};

const sentTools = (upstream: FakeUpstream) => (upstream.chatRequests.at(-1)?.body as { tools?: Array<Record<string, unknown>> }).tools;

describe('server-tools: server tools to an OpenAI-format backend', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) } });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('removes them, says so in x-llm-proxy-warning and the log, and tells the model (official SDK)', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('I cannot search from here.') });
    const { data, response } = await px.client.messages
      .create({ model: 'claude-opus-4-8', max_tokens: 100, messages: [{ role: 'user', content: 'search for llm-proxy' }], tools: [BASH, WEB_SEARCH, WEB_FETCH] })
      .withResponse();
    expect(data.content).toEqual([{ type: 'text', text: 'I cannot search from here.' }]);
    expect(response.headers.get('x-llm-proxy-warning')).toBe('web_search, web_fetch removed: backend "gpu" cannot run Anthropic server tools');
    const sent = upstream.chatRequests[0]!.body as { tools: Array<{ function: { name: string } }>; messages: Array<{ role: string; content: string }> };
    expect(sent.tools.map((tool) => tool.function.name)).toEqual(['Bash']);
    expect(sent.messages[0]).toEqual({ role: 'system', content: expect.stringContaining('Tools unavailable: web_search, web_fetch cannot run through this backend') });
    expect(px.logs.some((line) => line.includes('server tools removed') && line.includes('"backend":"gpu"'))).toBe(true);
  });

  it("Claude Code's WebSearch sub-request: the forced tool_choice goes with the tool, the model is told", async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('Web search is unavailable.') });
    const res = await postMessages(px.url, webSearchSubRequest);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-warning')).toBe('web_search removed: backend "gpu" cannot run Anthropic server tools (tool_choice dropped)');
    const sent = upstream.chatRequests[0]!.body as Record<string, unknown>;
    expect(sent.tools).toBeUndefined();
    expect(sent.tool_choice).toBeUndefined();
    expect((sent.messages as Array<{ content: string }>)[0]!.content).toBe(
      'You are an assistant for performing a web search tool use\n\nTools unavailable: web_search cannot run through this backend and was removed. If the task needs it, say so; never invent its results.',
    );
  });

  it('a request without server tools: no warning, tools as sent', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('ok') });
    const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }], tools: [BASH] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-warning')).toBeNull();
    expect(sentTools(upstream)?.map((tool) => (tool.function as { name: string }).name)).toEqual(['Bash']);
  });
});

describe('server-tools: server tools to an Anthropic-format backend that is not Anthropic (vLLM, LiteLLM, Ollama)', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'anthropic' });
    px = await startProxy({ backend: 'vllm', backends: { vllm: { type: 'anthropic', url: upstream.url } } });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  it('removes them with the warning, keeps the client tools and drops a tool_choice naming one', async () => {
    upstream.enqueue({ kind: 'json', body: anthropicText('no search here') });
    const res = await postMessages(px.url, { ...webSearchSubRequest, tools: [BASH, WEB_SEARCH] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-warning')).toBe('web_search removed: backend "vllm" cannot run Anthropic server tools (tool_choice dropped)');
    const sent = upstream.chatRequests[0]!.body as Record<string, unknown>;
    expect(sent.tools).toEqual([BASH]);
    expect(sent.tool_choice).toBeUndefined();
    expect(sent.system).toEqual([webSearchSubRequest.system[0], { type: 'text', text: expect.stringContaining('Tools unavailable: web_search') }]);
  });

  it.skipIf(!fixturesPresent && !fixturesRequired)("Claude Code's own request (24 client tools, WebSearch and WebFetch among them) passes unchanged", async () => {
    const fixture = loadFixture('pong-turn1');
    upstream.enqueue({ kind: 'json', body: anthropicText('pong') });
    const res = await postMessages(px.url, { ...fixture.body, stream: false });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-warning')).toBeNull();
    const sent = upstream.chatRequests[0]!.body as Record<string, unknown>;
    expect(sent.tools).toEqual(fixture.body.tools);
    expect(sent.system).toEqual(fixture.body.system);
  });
});

describe("server-tools: Anthropic's own API runs them", () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'anthropic' });
    px = await startProxy({ backend: 'claude', backends: { claude: { type: 'anthropic', url: upstream.url } }, plugins: [pretendAnthropicApi] });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });

  it('passes server tools, tool_choice and system untouched, without a warning', async () => {
    upstream.enqueue({ kind: 'json', body: anthropicText('searched') });
    const body = { ...webSearchSubRequest, tools: [BASH, WEB_SEARCH, WEB_FETCH] };
    const res = await postMessages(px.url, body);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-warning')).toBeNull();
    const sent = upstream.chatRequests[0]!.body as Record<string, unknown>;
    expect(sent.tools).toEqual(body.tools);
    expect(sent.tool_choice).toEqual(body.tool_choice);
    expect(sent.system).toEqual(body.system);
  });
});

describe('server-tools: a failover attempt decides afresh', () => {
  let gpu: FakeUpstream;
  let claude: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    gpu = await startFakeUpstream({ format: 'openai' });
    claude = await startFakeUpstream({ format: 'anthropic' });
    px = await startProxy({
      backend: 'gpu',
      failover: { mode: 'auto', retries: 0, baseDelayMs: 10, maxDelayMs: 20 },
      backends: { gpu: openaiBackend(gpu.url), claude: { type: 'anthropic', url: claude.url } },
      plugins: [pretendAnthropicApi],
    });
  });
  afterAll(async () => {
    await px?.close();
    await gpu?.close();
    await claude?.close();
  });

  it("the first attempt's warning goes when the request moves to Anthropic's API, which gets the tools", async () => {
    gpu.enqueue({ kind: 'error', status: 500, message: 'gpu down' });
    claude.enqueue({ kind: 'json', body: anthropicText('searched after all') });
    const body = { model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'search once' }], tools: [BASH, WEB_SEARCH] };
    const res = await postMessages(px.url, body);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-backend')).toBe('claude');
    expect(res.headers.get('x-llm-proxy-warning')).toBeNull();
    expect((gpu.chatRequests[0]!.body as { tools: unknown[] }).tools).toHaveLength(1);
    expect((claude.chatRequests[0]!.body as { tools: unknown }).tools).toEqual(body.tools);
  });
});
