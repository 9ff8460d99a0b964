import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runClaude } from './support/claude-cli.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { startProxy, type TestProxy } from './support/proxy.js';

const KEY = 'csk-wrong-key-0123456789';

// User story 5: what reaches a person in Claude Code when a backend fails says which backend,
// why, and what to do. No retries, so each case is one request.
describe('backend failures as Claude Code shows them', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'cerebras' });
    px = await startProxy({ backend: 'cerebras', backends: { cerebras: { type: 'cerebras', apiKey: KEY, apiUrl: `${upstream.url}/v1`, model: 'gpt-oss-120b' } } });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });

  const ask = async (prompt: string) => {
    const run = await runClaude({ baseUrl: px.url, prompt, env: { CLAUDE_CODE_MAX_RETRIES: '0' } });
    const result = run.json as { is_error?: boolean; result?: string };
    expect(result.is_error).toBe(true);
    return result.result ?? '';
  };

  it('a rejected key names the backend and the variable to check, never the key', async () => {
    upstream.setFallback({ kind: 'error', status: 401 });
    const shown = await ask('first question');
    expect(shown).toContain('backend "cerebras"');
    expect(shown).toContain('CEREBRAS_API_KEY');
    expect(shown).not.toContain(KEY);
  }, 120_000);

  it('an exhausted quota says how long to wait and what to switch to', async () => {
    upstream.setFallback({ kind: 'error', status: 429, headers: { 'retry-after': '30' } });
    const shown = await ask('second question');
    expect(shown).toMatch(/quota exhausted/);
    // The fake's 429 is the daily budget: the wait is until its reset, and waiting will not help today.
    expect(shown).toContain('wait 9 h 11 min');
    expect(shown).toContain('waiting will not help today');
    expect(shown).toContain('llm-proxy switch');
  }, 120_000);
});
