import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeAvailable, claudeResult, runClaude } from './support/claude-cli.js';
import { startCountingRelay, type CountingRelay } from './support/counting-relay.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { openaiBackend, startProxy, type TestProxy } from './support/proxy.js';

// The real Claude Code CLI through a proxy with `failover: "auto"`: the GPU it is routed to
// fails, the proxy retries it and moves to the fallback before the first byte, and Claude Code
// sees one request that answers.
describe('Claude Code with failover: "auto"', () => {
  let gpu: FakeUpstream;
  let cerebras: FakeUpstream;
  let px: TestProxy;
  let relay: CountingRelay;
  beforeAll(async () => {
    expect(claudeAvailable(), 'node_modules/.bin/claude is missing: run npm install').toBe(true);
    gpu = await startFakeUpstream({ format: 'openai' });
    cerebras = await startFakeUpstream({ format: 'cerebras' });
    px = await startProxy({
      backend: 'gpu',
      failover: { mode: 'auto', baseDelayMs: 20, maxDelayMs: 100 },
      backends: {
        gpu: openaiBackend(gpu.url, { fallback: ['cerebras'] }),
        cerebras: { type: 'cerebras', apiKey: 'csk-test-0123456789', apiUrl: `${cerebras.url}/v1`, model: 'gpt-oss-120b' },
      },
    });
    relay = await startCountingRelay(px.url);
  });
  afterAll(async () => {
    await relay?.close();
    await px?.close();
    await gpu?.close();
    await cerebras?.close();
  });

  it('a GPU answering 503 is retried, then the fallback answers: one request from Claude Code', async () => {
    gpu.setFallback({ kind: 'error', status: 503, message: 'model is loading' });
    cerebras.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('answered by the fallback') });
    const run = await runClaude({ baseUrl: relay.url, prompt: 'say hi', env: { CLAUDE_CODE_MAX_RETRIES: '0' } });
    expect(claudeResult(run)).toContain('answered by the fallback');
    expect(relay.messages).toBe(1);
    expect(gpu.chatRequests).toHaveLength(3);
    expect(cerebras.chatRequests.length).toBeGreaterThan(0);
  }, 120_000);
});
