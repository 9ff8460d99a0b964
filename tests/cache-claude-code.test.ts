import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeAvailable, runClaude } from './support/claude-cli.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { openaiBackend, startProxy, type TestProxy } from './support/proxy.js';
import { cachePlugins } from './support/cache.js';

// Two runs with one HOME send the same request apart from metadata.user_id (its session_id) and
// the x-claude-code-session-id header, neither of which is part of the cache key.
describe('the real Claude Code CLI, run twice with the same prompt', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  let home: string;
  beforeAll(async () => {
    expect(claudeAvailable(), 'node_modules/.bin/claude is missing: run npm install').toBe(true);
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: cachePlugins() });
    home = mkdtempSync(join(tmpdir(), 'llm-proxy-cache-home-'));
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('is answered from the cache the second time', async () => {
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('pong from the model') });
    const first = await runClaude({ baseUrl: px.url, prompt: 'say pong', home, timeoutMs: 150_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(upstream.chatRequests).toHaveLength(1);
    const second = await runClaude({ baseUrl: px.url, prompt: 'say pong', home, timeoutMs: 150_000 });
    expect(second.code, second.stderr).toBe(0);
    for (const run of [first, second]) expect((run.json as { result?: string }).result).toBe('pong from the model');
    expect(upstream.chatRequests).toHaveLength(1);
    const outcomes = px.logs.filter((line) => line.includes('"msg":"messages"')).map((line) => (JSON.parse(line) as { cache: string }).cache);
    expect(outcomes).toEqual(['miss', 'hit']);
  }, 320_000);
});
