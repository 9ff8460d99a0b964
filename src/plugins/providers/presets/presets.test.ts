import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendConfig } from '../../../config/types.js';
import { Kernel } from '../../../kernel/kernel.js';
import type { BackendSpec, Plugin } from '../../../kernel/types.js';
import { createLogger } from '../../../logger.js';
import { anthropicProvider } from '../anthropic/index.js';
import { openaiProvider } from '../openai/index.js';
import { presetsProvider } from './index.js';
import { ScriptedBackend } from '../scripted/index.js';
import { selfHostedProvider } from '../self-hosted/index.js';
import { createProxy } from '../../../proxy.js';
import { anthropicText, openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../../tests/support/fake-upstream.js';
import { postMessages, startProxy } from '../../../../tests/support/proxy.js';

const question = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

/** Stands in for the ollama plugin (same name, so it replaces the built-in one): records the specs it builds. */
function recordingOllama(specs: BackendSpec[]): Plugin {
  return {
    name: 'ollama',
    apply({ providers }) {
      providers.register('ollama', (spec) => {
        specs.push(spec);
        return new ScriptedBackend({ ...spec, options: { type: 'scripted', responses: [{ text: 'from ollama' }] } });
      });
    },
  };
}

async function describeBackend(backend: BackendConfig): Promise<Record<string, unknown>> {
  const proxy = await createProxy({ backend: 'b', backends: { b: backend }, plugins: [presetsProvider()], logLevel: 'silent' });
  try {
    return proxy.kernel.backends.get('b')!.describe();
  } finally {
    await proxy.close();
  }
}

describe('vast-ai and self-hosted formats', () => {
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  beforeAll(async () => {
    openai = await startFakeUpstream();
    openai.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('from vllm') });
    anthropic = await startFakeUpstream({ format: 'anthropic' });
    anthropic.setFallback({ kind: 'json', body: anthropicText('from anthropic') });
  });
  afterAll(async () => {
    await openai.close();
    await anthropic.close();
  });

  it('vast-ai speaks OpenAI by default, with the key as Bearer', async () => {
    const px = await startProxy({ backend: 'gpu', backends: { gpu: { type: 'vast-ai', url: openai.url, apiKey: 'vast-key-123' } }, plugins: [presetsProvider()] });
    try {
      const answer = await postMessages(px.url, question);
      expect(JSON.parse(answer.text).content[0].text).toBe('from vllm');
      const sent = openai.chatRequests.at(-1)!;
      expect(sent.path).toBe('/v1/chat/completions');
      expect(sent.headers.authorization).toBe('Bearer vast-key-123');
    } finally {
      await px.close();
    }
  });

  it('vast-ai with format anthropic, and the legacy self-hosted shape, pass /v1/messages through with x-api-key', async () => {
    const px = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: { type: 'vast-ai', url: anthropic.url, format: 'anthropic', apiKey: 'proxy-key-1', server: 'vllm' },
        legacy: { type: 'self-hosted', url: anthropic.url },
      },
      plugins: [presetsProvider()],
    });
    try {
      const answer = await postMessages(px.url, { ...question, context_management: { edits: [] } }, { 'anthropic-beta': 'context-management-2025-06-27' });
      expect(JSON.parse(answer.text).content[0].text).toBe('from anthropic');
      expect(anthropic.chatRequests.at(-1)!.headers['x-api-key']).toBe('proxy-key-1');
      // The entry's `server` reaches the anthropic provider: vLLM's preset.
      expect(anthropic.chatRequests.at(-1)!.body).not.toHaveProperty('context_management');
      expect(anthropic.chatRequests.at(-1)!.headers['anthropic-beta']).toBeUndefined();
      expect(answer.headers.get('x-llm-proxy-stripped')).toBe('context_management, beta:context-management-2025-06-27');
      expect((await postMessages(px.url, { ...question, model: 'legacy' })).status).toBe(200);
      expect(anthropic.chatRequests.at(-1)!.headers['x-api-key']).toBeUndefined();
    } finally {
      await px.close();
    }
  });

  it('presets wait longer for the first byte (cold starts); a backend may set its own limit', async () => {
    // Well past 200 ms even with undici's coarse timers.
    openai.enqueue({ kind: 'delay', ms: 2_500, then: { kind: 'openai-stream', chunks: openaiTextChunks('loaded') } }, { kind: 'hang' }, { kind: 'hang' });
    const px = await startProxy({
      backend: 'gpu',
      server: { firstByteTimeoutMs: 200 },
      backends: {
        gpu: { type: 'vast-ai', url: openai.url },
        plain: { type: 'openai', url: openai.url },
        impatient: { type: 'vast-ai', url: openai.url, firstByteTimeoutMs: 200 },
      },
      plugins: [presetsProvider()],
    });
    try {
      expect((await postMessages(px.url, question)).status).toBe(200);
      expect((await postMessages(px.url, { ...question, model: 'plain' })).status).toBe(504);
      expect((await postMessages(px.url, { ...question, model: 'impatient' })).status).toBe(504);
    } finally {
      await px.close();
    }
  });

  it('format "ollama" builds with the ollama plugin, cold-start timeout included', async () => {
    const specs: BackendSpec[] = [];
    const px = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: { type: 'vast-ai', url: 'http://127.0.0.1:11434', format: 'ollama', model: 'qwen3-coder:30b' },
        old: { type: 'self-hosted', url: 'http://127.0.0.1:11435', format: 'ollama' },
      },
      plugins: [presetsProvider(), recordingOllama(specs)],
    });
    try {
      expect(JSON.parse((await postMessages(px.url, question)).text).content[0].text).toBe('from ollama');
      expect(specs.map((s) => [s.name, s.type, s.options.url])).toEqual([
        ['gpu', 'vast-ai', 'http://127.0.0.1:11434'],
        ['old', 'self-hosted', 'http://127.0.0.1:11435'],
      ]);
      expect(specs[0]!.options.firstByteTimeoutMs).toBe(300_000);
    } finally {
      await px.close();
    }
  });

  it('format "ollama" without the ollama plugin says which plugin is needed', async () => {
    const create = Kernel.create({
      plugins: [openaiProvider(), anthropicProvider(), selfHostedProvider()],
      backends: [{ name: 'gpu', type: 'self-hosted', options: { url: 'http://127.0.0.1:11434', format: 'ollama' } }],
      activeBackend: 'gpu',
      server: { bodyLimitBytes: 1, pingIntervalMs: 1, connectTimeoutMs: 1, firstByteTimeoutMs: 1, idleTimeoutMs: 1, shutdownGraceMs: 1 },
      logger: createLogger({ level: 'silent' }),
    });
    await expect(create).rejects.toThrow(/backends\.gpu\.format: format "ollama" needs the ollama plugin/);
  });
});

describe('runpod', () => {
  it('a pod is reached through RunPod\'s proxy on port 8000 unless told otherwise', async () => {
    expect(await describeBackend({ type: 'runpod', podId: 'abc123xyz' })).toMatchObject({
      type: 'runpod',
      url: 'https://abc123xyz-8000.proxy.runpod.net/v1',
    });
    expect(await describeBackend({ type: 'runpod', podId: 'abc123xyz', port: 8080, format: 'anthropic', apiKey: 'proxy-key-1' })).toMatchObject({
      url: 'https://abc123xyz-8080.proxy.runpod.net',
      apiKey: 'set',
      server: 'generic',
    });
    expect(await describeBackend({ type: 'runpod', podId: 'abc123xyz', format: 'anthropic', server: 'vllm' })).toMatchObject({ server: 'vllm' });
  });

  it('a serverless endpoint uses its OpenAI route and RUNPOD_API_KEY', async () => {
    const saved = process.env.RUNPOD_API_KEY;
    try {
      process.env.RUNPOD_API_KEY = 'rp_test_key_123';
      expect(await describeBackend({ type: 'runpod', endpointId: 'vllm-abc123' })).toMatchObject({
        type: 'runpod',
        url: 'https://api.runpod.ai/v2/vllm-abc123/openai/v1',
        apiKey: 'set',
      });
      delete process.env.RUNPOD_API_KEY;
      await expect(describeBackend({ type: 'runpod', endpointId: 'vllm-abc123' })).rejects.toThrow(/backends\.b\.apiKey: .*set RUNPOD_API_KEY/);
    } finally {
      if (saved === undefined) delete process.env.RUNPOD_API_KEY;
      else process.env.RUNPOD_API_KEY = saved;
    }
  });

  it('needs exactly one of podId and endpointId, and no tunnel', async () => {
    await expect(describeBackend({ type: 'runpod' } as BackendConfig)).rejects.toThrow(/set exactly one of podId .* or endpointId/);
    await expect(describeBackend({ type: 'runpod', podId: 'abc', endpointId: 'def', apiKey: 'k' })).rejects.toThrow(/exactly one/);
    await expect(
      describeBackend({ type: 'runpod', podId: 'abc', tunnel: { host: 'h', user: 'u', remotePort: 1 } } as never),
    ).rejects.toThrow(/use type "self-hosted" with `tunnel`/);
  });
});
