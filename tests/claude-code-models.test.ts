// Claude Code's /model picker and the proxy's backends, with the real CLI (2.1.197): with
// CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY=1 (and not in essential-traffic mode) it asks the
// gateway's GET /v1/models?limit=1000 at start, keeps the ids matching /^(claude|anthropic)/i,
// and caches them in ~/.claude/cache/gateway-models.json, which the picker lists ("From gateway").
// A picked id then routes to its backend.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeEnv } from '../src/cli/claude-env.js';
import { claudeAvailable, claudeResult, runClaude } from './support/claude-cli.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { startProxy, type TestProxy } from './support/proxy.js';

describe("Claude Code's /model picker lists the proxy's backends", () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    expect(claudeAvailable(), 'node_modules/.bin/claude is missing: run npm install').toBe(true);
    upstream = await startFakeUpstream({ format: 'openai' });
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('from the gpu') });
    px = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: { type: 'openai', url: `${upstream.url}/v1`, model: 'qwen3-coder:30b' },
        canned: { type: 'scripted', responses: [{ text: 'canned answer' }] },
      },
    });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });

  it('with the opt-in, the picker cache holds anthropic/<backend> for each backend, and a picked one answers', async () => {
    const user = { CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: '1' };
    const env = { ...claudeEnv(px.url, user), ...user, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '' };
    expect(env).toMatchObject({ DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', DISABLE_AUTOUPDATER: '1' });
    const run = await runClaude({ baseUrl: px.url, prompt: 'hello', env, timeoutMs: 150_000 });
    expect(claudeResult(run)).toBe('from the gpu');
    const file = join(run.home, '.claude', 'cache', 'gateway-models.json');
    expect(existsSync(file), `${file} was not written`).toBe(true);
    const cache = JSON.parse(readFileSync(file, 'utf8')) as { baseUrl: string; models: Array<{ id: string; display_name?: string }> };
    expect(cache.baseUrl).toBe(px.url);
    expect(cache.models).toEqual([
      { id: 'anthropic/gpu', display_name: 'gpu · qwen3-coder:30b (llm-proxy)' },
      { id: 'anthropic/canned', display_name: 'canned (llm-proxy)' },
    ]);

    const picked = await runClaude({ baseUrl: px.url, home: run.home, prompt: 'hello', env, extraArgs: ['--model', 'anthropic/canned'], timeoutMs: 150_000 });
    expect(claudeResult(picked)).toBe('canned answer');
  });
});
