// Context windows and token counts against servers that speak vLLM's, llama.cpp's and Ollama's
// model-info and tokenizer endpoints (tests/support/fake-inference-servers.ts counts with Qwen3's
// real tokenizer), with the official SDK as the client and Claude Code's real request body.

import Anthropic from '@anthropic-ai/sdk';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeInferenceServer, type FakeInferenceServer, type ChatBody } from './support/fake-inference-servers.js';
import { startFakeOllama, ollamaTextLines, type FakeOllama } from './support/fake-ollama.js';
import { fixturesPresent, fixturesRequired, loadFixture } from './support/fixtures.js';
import { startProxy, type TestProxy } from './support/proxy.js';

/** Claude Code reads these two wordings (2.1.197): the first makes it compact, the second lower max_tokens. */
const CLAUDE_CODE_TOO_LONG = /prompt is too long[^0-9]*(\d+)\s*tokens?\s*>\s*(\d+)/i;
const CLAUDE_CODE_OVER_MAX = /input length and `max_tokens` exceed context limit: (\d+) \+ (\d+) > (\d+)/;

type Body = Anthropic.MessageCreateParamsNonStreaming;
/** The SDK refuses a non-streaming request with a large max_tokens unless it is given a timeout. */
const LONG = { timeout: 60_000 };

const fixture = (): Body => {
  const { body } = loadFixture('pong-turn1.json');
  return { ...(body as unknown as Body), stream: false };
};

const countParams = (body: Body): Anthropic.MessageCountTokensParams => ({
  model: body.model,
  messages: body.messages,
  ...(body.system ? { system: body.system } : {}),
  ...(body.tools ? { tools: body.tools } : {}),
});

describe.skipIf(!fixturesPresent && !fixturesRequired)('context windows with Claude Code bodies', () => {
  const opened: Array<{ close(): Promise<void> }> = [];
  const open = async <T extends { close(): Promise<void> }>(thing: Promise<T>): Promise<T> => {
    const value = await thing;
    opened.push(value);
    return value;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((thing) => thing.close()));
  });

  const proxyFor = (server: FakeInferenceServer, extra: Record<string, unknown> = {}): Promise<TestProxy> =>
    open(startProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${server.url}/v1`, model: server.model, ...extra } } }));

  it("vLLM: the window is max_model_len, max_tokens is lowered to what is left, and the answer's usage matches the server's count", async () => {
    const vllm = await open(startFakeInferenceServer({ kind: 'vllm', contextWindow: 40_960 }));
    const px = await proxyFor(vllm);
    const body = fixture();
    const asked = body.max_tokens;
    const { data, response } = await px.client.messages.create(body, LONG).withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'ok' });
    expect(response.headers.get('x-llm-proxy-context-window')).toBe('40960');
    const sent = vllm.requestsTo('/v1/chat/completions')[0] as ChatBody;
    const prompt = vllm.promptTokens(sent);
    expect(sent.max_tokens).toBeLessThan(asked);
    expect(prompt + sent.max_tokens!).toBeLessThanOrEqual(40_960);
    expect(response.headers.get('x-llm-proxy-max-tokens')).toBe(`${sent.max_tokens} (asked ${asked})`);
    expect(data.usage.input_tokens).toBe(prompt);
  });

  it('vLLM: a prompt that cannot fit is refused before it is sent, in the wording Claude Code compacts on', async () => {
    const vllm = await open(startFakeInferenceServer({ kind: 'vllm', contextWindow: 16_384 }));
    const px = await proxyFor(vllm);
    const error = await px.client.messages.create(fixture(), LONG).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const { message } = error as InstanceType<typeof Anthropic.BadRequestError>;
    const [, tokens, maximum] = CLAUDE_CODE_TOO_LONG.exec(message) ?? [];
    expect(Number(tokens)).toBeGreaterThan(Number(maximum));
    expect(Number(maximum)).toBe(16_384 - 3_000);
    expect(message).toContain('invalid_request_error');
    expect(vllm.requestsTo('/v1/chat/completions')).toHaveLength(0);
    // The proxy keeps serving: a short request still goes through.
    const small = await px.client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64_000, messages: [{ role: 'user', content: 'hi' }] }, LONG);
    expect(small.content[0]).toMatchObject({ text: 'ok' });
  });

  it("vLLM: count_tokens is the server's /tokenize count of the chat messages and tools", async () => {
    const vllm = await open(startFakeInferenceServer({ kind: 'vllm', contextWindow: 131_072 }));
    const px = await proxyFor(vllm);
    const body = fixture();
    const { data, response } = await px.client.messages.countTokens(countParams(body)).withResponse();
    expect(response.headers.get('x-llm-proxy-token-count')).toBe('exact');
    const asked = vllm.requestsTo('/tokenize')[0] as ChatBody & { add_generation_prompt?: boolean; model?: string };
    expect(asked).toMatchObject({ model: vllm.model, add_generation_prompt: true });
    expect(asked.tools).toHaveLength(body.tools!.length);
    expect(data.input_tokens).toBe(vllm.promptTokens(asked));
  });

  it('vLLM: a tokenizer that is down means an estimate, said so, without waiting', async () => {
    const vllm = await open(startFakeInferenceServer({ kind: 'vllm', contextWindow: 131_072 }));
    vllm.breakEndpoint('/tokenize');
    const px = await proxyFor(vllm);
    const body = fixture();
    const { data, response } = await px.client.messages.countTokens(countParams(body)).withResponse();
    expect(response.headers.get('x-llm-proxy-token-count')).toBe('estimate');
    const exact = vllm.promptTokens({ messages: [{ role: 'user', content: JSON.stringify([body.system, body.messages, body.tools]) }] });
    expect(Math.abs(data.input_tokens / exact - 1)).toBeLessThan(0.15);
  });

  it("vLLM: the server's own refusal (a window larger in the config than served) becomes the API's max_tokens wording", async () => {
    const vllm = await open(startFakeInferenceServer({ kind: 'vllm', contextWindow: 40_960 }));
    const px = await proxyFor(vllm, { contextWindow: 200_000 });
    const body = fixture();
    const error = await px.client.messages.create(body, LONG).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const [, input, max, limit] = CLAUDE_CODE_OVER_MAX.exec((error as Error).message) ?? [];
    expect(Number(max)).toBe(body.max_tokens);
    expect(Number(limit)).toBe(40_960);
    expect(Number(input)).toBe(vllm.promptTokens(vllm.requestsTo('/v1/chat/completions')[0] as ChatBody));
  });

  it("llama.cpp: the window is /props n_ctx, count_tokens is /apply-template then /tokenize, and its context error is Claude Code's", async () => {
    const llama = await open(startFakeInferenceServer({ kind: 'llama.cpp', contextWindow: 65_536 }));
    const px = await proxyFor(llama);
    const body = fixture();
    const { response } = await px.client.messages.create(body, LONG).withResponse();
    expect(response.headers.get('x-llm-proxy-context-window')).toBe('65536');

    const counted = await px.client.messages.countTokens(countParams(body)).withResponse();
    expect(counted.response.headers.get('x-llm-proxy-token-count')).toBe('exact');
    const templated = llama.requestsTo('/apply-template')[0] as ChatBody;
    expect(counted.data.input_tokens).toBe(llama.promptTokens(templated));

    // A server started with a smaller context than the config says: its refusal, reworded.
    const small = await open(startFakeInferenceServer({ kind: 'llama.cpp', contextWindow: 8_192 }));
    const wrong = await proxyFor(small, { contextWindow: 131_072 });
    const error = await wrong.client.messages.create({ ...body, max_tokens: 1_000 }, LONG).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const [, tokens, maximum] = CLAUDE_CODE_TOO_LONG.exec((error as Error).message) ?? [];
    expect(Number(maximum)).toBe(8_192);
    expect(Number(tokens)).toBe(small.promptTokens(small.requestsTo('/v1/chat/completions')[0] as ChatBody));
  });
});

describe('the window of an Anthropic-format server, as the admin status names it', () => {
  it.each([
    ['vllm', 24_576, 'vLLM'],
    ['llama.cpp', 16_384, 'llama.cpp /props n_ctx'],
  ] as const)('%s', async (kind, window, source) => {
    const server = await startFakeInferenceServer({ kind, contextWindow: window });
    const px = await startProxy({ backend: 'gpu', backends: { gpu: { type: 'anthropic', url: server.url, model: server.model, server: kind } } });
    try {
      const status = (await (await fetch(`${px.url}/_llm-proxy/status`)).json()) as { contextWindow?: { tokens: number; source: string } };
      expect(status.contextWindow?.tokens).toBe(window);
      expect(status.contextWindow?.source).toContain(source === 'vLLM' ? 'max_model_len' : source);
    } finally {
      await px.close();
      await server.close();
    }
  });
});

describe('Ollama: the window is the smaller of the model context_length and the num_ctx the proxy sends', () => {
  let ollama: FakeOllama;
  beforeAll(async () => {
    ollama = await startFakeOllama();
    ollama.setModels([
      { name: 'qwen3-coder:30b', capabilities: ['completion', 'tools'] },
      { name: 'small:8k', capabilities: ['completion', 'tools'], contextLength: 8_192 },
    ]);
  });
  afterAll(() => ollama.close());

  const long = 'The proxy checks every request against the window of the model it goes to. '.repeat(1600);

  it('num_ctx below the trained length: num_ctx counts, and a longer prompt is refused rather than cut', async () => {
    const px = await startProxy({ backend: 'ollama', backends: { ollama: { type: 'ollama', url: ollama.url, model: 'qwen3-coder:30b', numCtx: 16_384 } } });
    try {
      const error = await px.client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 4_096, messages: [{ role: 'user', content: long }] }, LONG).catch((e: unknown) => e);
      expect((error as Error).message, (error as Error).message).toMatch(CLAUDE_CODE_TOO_LONG);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      expect((error as Error).message).toContain('16384 tokens, from num_ctx the proxy sends');
      expect(ollama.chatRequests).toHaveLength(0);
    } finally {
      await px.close();
    }
  });

  it('a model trained for less than num_ctx: its context_length counts, and max_tokens (num_predict) is lowered to fit', async () => {
    const px = await startProxy({ backend: 'ollama', backends: { ollama: { type: 'ollama', url: ollama.url, model: 'small:8k' } } });
    try {
      ollama.enqueue({ kind: 'stream', lines: ollamaTextLines('ok', { model: 'small:8k' }) });
      const { response } = await px.client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 32_000, messages: [{ role: 'user', content: 'hello' }] }, LONG).withResponse();
      expect(response.headers.get('x-llm-proxy-context-window')).toBe('8192');
      const sent = ollama.chatRequests.at(-1)?.body as { options: { num_ctx: number; num_predict: number } };
      expect(sent.options.num_predict).toBeLessThan(8_192);
      expect(response.headers.get('x-llm-proxy-max-tokens')).toBe(`${sent.options.num_predict} (asked 32000)`);
    } finally {
      await px.close();
    }
  });
});
