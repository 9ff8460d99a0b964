import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../../tests/support/fake-upstream.js';
import { startProxy, type TestProxy } from '../../../../tests/support/proxy.js';

/** The error message the proxy wrote (the SDK's own message is the whole JSON body). */
const messageOf = (error: unknown): string =>
  (error as { error?: { error?: { message?: string } } }).error?.error?.message ?? String(error);

// The prompt names the model: identical requests would be answered from the cache.
const ask = (model: string) => ({ model, max_tokens: 10, messages: [{ role: 'user' as const, content: `hi, ${model}` }] });

// A model name that is neither a backend, `<backend>/<model>`, a Claude model, a `models` glob
// nor a model the active backend serves is an error, not the active backend's default model.
describe('model names the router does not know', () => {
  let gpu: FakeUpstream;
  let other: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    gpu = await startFakeUpstream({ format: 'openai' });
    other = await startFakeUpstream({ format: 'openai' });
    other.setModels(['llama-3.3-70b']);
    px = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: { type: 'openai', url: `${gpu.url}/v1`, model: 'qwen3-coder:30b', models: { 'fast-*': 'qwen3:8b' } },
        other: { type: 'openai', url: `${other.url}/v1`, model: 'llama-3.3-70b' },
        canned: { type: 'scripted', responses: [{ text: 'canned answer' }] },
      },
    });
  });
  afterAll(async () => {
    await px?.close();
    await gpu?.close();
    await other?.close();
  });
  beforeEach(() => {
    gpu.reset();
    gpu.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('from the gpu') });
  });

  const upstreamModels = () => gpu.chatRequests.map((r) => (r.body as { model: string }).model);

  it('--model nosuch: a 400 the SDK does not retry, listing the backends and their models', async () => {
    const error = await px.client.messages.create(ask('nosuch')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    const bad = error as InstanceType<typeof Anthropic.BadRequestError>;
    expect(bad.headers.get('x-should-retry')).toBe('false');
    const message = messageOf(bad);
    expect(message).toContain('Unknown model "nosuch"');
    expect(message).toContain('gpu (active): qwen3-coder:30b, Qwen/Qwen3-Coder-30B-A3B-Instruct');
    expect(message).toContain('other: llama-3.3-70b');
    expect(message).toContain('canned: its model list is unavailable');
    expect(gpu.chatRequests).toHaveLength(0);
  });

  it('a model another backend serves: says which, and where to send it', async () => {
    const error = await px.client.messages.create(ask('llama-3.3-70b')).catch((e: unknown) => e);
    expect(messageOf(error)).toContain('backend "other" serves it: use --model other/llama-3.3-70b');
  });

  it('a model the active backend serves goes there by that name, not as its default model', async () => {
    await px.client.messages.create(ask('Qwen/Qwen3-Coder-30B-A3B-Instruct'));
    expect(upstreamModels()).toEqual(['Qwen/Qwen3-Coder-30B-A3B-Instruct']);
  });

  it("Claude's names and `models` globs keep mapping", async () => {
    await px.client.messages.create(ask('claude-haiku-4-5-20251001'));
    await px.client.messages.create(ask('fast-anything'));
    await px.client.messages.create(ask('gpu'));
    await px.client.messages.create(ask('gpu/qwen3-coder:480b'));
    expect(upstreamModels()).toEqual(['qwen3-coder:30b', 'qwen3:8b', 'qwen3-coder:30b', 'qwen3-coder:480b']);
  });

  it('asks for the model list once, not per request', async () => {
    const lists = () => gpu.requests.filter((r) => r.endpoint === 'models').length;
    await px.client.messages.create(ask('nosuch-1')).catch(() => undefined);
    const after = lists();
    await px.client.messages.create(ask('nosuch-2')).catch(() => undefined);
    await px.client.messages.create(ask('nosuch-3')).catch(() => undefined);
    expect(after).toBeLessThanOrEqual(1);
    expect(lists()).toBe(after);
  });

  it('lets the request through when the list cannot be fetched', async () => {
    const down = await startFakeUpstream({ format: 'openai' });
    down.setModelsReply({ kind: 'error', status: 500 });
    down.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('answered anyway') });
    const solo = await startProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${down.url}/v1`, model: 'qwen3-coder:30b' } } });
    try {
      const message = await solo.client.messages.create(ask('whatever-the-user-typed'));
      expect(message.content).toEqual([{ type: 'text', text: 'answered anyway' }]);
      expect(down.requests.filter((r) => r.endpoint === 'models').length).toBeGreaterThan(0);
    } finally {
      await solo.close();
      await down.close();
    }
  });

  it('an unknown backend in `<backend>,<model>` is a 400 naming the backends', async () => {
    const error = (await px.client.messages.create(ask('nope,qwen3')).catch((e: unknown) => e)) as InstanceType<typeof Anthropic.BadRequestError>;
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect(messageOf(error)).toContain('Unknown backend "nope"');
    expect(error.headers.get('x-should-retry')).toBe('false');
  });
});
