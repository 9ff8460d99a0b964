import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicText, openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../../tests/support/fake-upstream.js';
import { postMessages, startProxy, type TestProxy } from '../../../../tests/support/proxy.js';
import { createProxy } from '../../../proxy.js';

const question = { model: 'claude-opus-4-8', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

describe('self-hosted-provider: the format picks the provider', () => {
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    openai = await startFakeUpstream();
    anthropic = await startFakeUpstream({ format: 'anthropic' });
    px = await startProxy({
      backend: 'vllm',
      backends: {
        vllm: { type: 'self-hosted', format: 'openai', url: `${openai.url}/v1`, apiKey: 'vllm-key-123', model: 'qwen3-coder:30b' },
        passthrough: { type: 'self-hosted', format: 'anthropic', url: anthropic.url, apiKey: 'proxy-key-1' },
        ollama: { type: 'self-hosted', url: anthropic.url, server: 'ollama', accepts: { contextManagement: true } },
      },
    });
  });
  afterAll(async () => {
    await px.close();
    await openai.close();
    await anthropic.close();
  });
  beforeEach(() => {
    openai.reset();
    openai.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('from vllm') });
    anthropic.reset();
    anthropic.setFallback({ kind: 'json', body: anthropicText('from anthropic') });
  });

  it('format "openai" speaks Chat Completions with the key as Bearer', async () => {
    const answer = await postMessages(px.url, question);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).content[0].text).toBe('from vllm');
    const sent = openai.chatRequests.at(-1)!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer vllm-key-123');
    expect((sent.body as { model: string }).model).toBe('qwen3-coder:30b');
    expect(anthropic.chatRequests).toEqual([]);
  });

  it('format "anthropic" passes /v1/messages through with x-api-key', async () => {
    const answer = await postMessages(px.url, { ...question, model: 'passthrough' });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).content[0].text).toBe('from anthropic');
    const sent = anthropic.chatRequests.at(-1)!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['x-api-key']).toBe('proxy-key-1');
    expect(openai.chatRequests).toEqual([]);
  });

  it("format \"anthropic\" takes the anthropic type's `server` preset and `accepts`", async () => {
    const turn = { ...question, context_management: { edits: [] }, output_config: { effort: 'high' }, messages: [{ role: 'system', content: 'note' }, ...question.messages] };
    // The default for a URL that is not Anthropic's: the conservative set.
    await postMessages(px.url, { ...turn, model: 'passthrough' });
    expect(Object.keys(anthropic.chatRequests.at(-1)!.body as object)).toEqual(['model', 'max_tokens', 'messages']);
    // Ollama reads output_config and takes system messages; the entry adds context_management.
    await postMessages(px.url, { ...turn, model: 'ollama' });
    expect(anthropic.chatRequests.at(-1)!.body).toEqual({ ...turn, model: 'ollama' });
    expect(px.proxy.kernel.backends.get('ollama')!.describe()).toMatchObject({ server: 'ollama' });
    expect(px.proxy.kernel.backends.get('passthrough')!.describe()).toMatchObject({ server: 'generic' });
  });

  it('/health and status show each backend as the provider of its format reports it', async () => {
    const report = (await (await fetch(`${px.url}/health`)).json()) as { backends: Record<string, { status: string }> };
    expect(report.backends.vllm).toMatchObject({ status: 'ok' });
    expect(report.backends.passthrough).toMatchObject({ status: 'ok' });
    expect(px.proxy.kernel.backends.get('vllm')!.describe()).toMatchObject({ model: 'qwen3-coder:30b', apiKey: 'set' });
    expect(px.proxy.kernel.backends.get('passthrough')!.describe()).toMatchObject({ apiKey: 'set' });
  });
});

describe('self-hosted-provider: the entry is checked by the provider of its format', () => {
  it('warns about an unknown key beside the format, naming backends.<name>.<key>, and drops it', async () => {
    const lines: string[] = [];
    const proxy = await createProxy(
      {
        logFormat: 'json',
        backend: 'gpu',
        backends: { gpu: { type: 'self-hosted', format: 'openai', url: 'http://127.0.0.1:8001/v1', modle: 'qwen3-coder:30b' } as never },
      },
      { logSink: (line) => lines.push(line) },
    );
    try {
      const warnings = lines.map((line) => JSON.parse(line) as { level: string; msg: string }).filter((l) => l.level === 'warn').map((l) => l.msg);
      expect(warnings).toEqual(['inline config: unknown key "backends.gpu.modle" ignored; did you mean "model"?']);
      expect(proxy.kernel.backends.get('gpu')!.describe()).toMatchObject({ model: undefined });
    } finally {
      await proxy.close();
    }
  });

  it('refuses an unknown format and a missing url, naming the field', async () => {
    await expect(
      createProxy({ backend: 'gpu', backends: { gpu: { type: 'self-hosted', format: 'grpc', url: 'http://127.0.0.1:8001' } as never }, logLevel: 'silent' }),
    ).rejects.toThrow(/backends\.gpu\.format: must be "anthropic", "openai" or "ollama"/);
    await expect(createProxy({ backend: 'gpu', backends: { gpu: { type: 'self-hosted', format: 'openai' } as never }, logLevel: 'silent' })).rejects.toThrow(
      /backends\.gpu\.url: Required/,
    );
  });
});
