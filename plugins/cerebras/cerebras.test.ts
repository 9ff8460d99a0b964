import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import { postMessages, startProxy, type TestProxy } from '../../tests/support/proxy.js';

const KEY = 'csk-test-CEREBRAS-0123456789';

describe('cerebras plugin against a Cerebras-speaking server', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'cerebras' });
    px = await startProxy({
      backend: 'cerebras',
      backends: { cerebras: { type: 'cerebras', apiKey: KEY, apiUrl: `${upstream.url}/v1`, model: 'gpt-oss-120b' } },
    });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  it('sends Bearer auth, strips parameters Cerebras rejects, and reads its quota headers', async () => {
    upstream.enqueue({
      kind: 'openai-stream',
      chunks: openaiTextChunks('fast answer'),
      rateLimit: { remainingRequestsDay: 99, remainingTokensMinute: 5000 },
    });
    const res = await postMessages(px.url, {
      model: 'claude-sonnet-4-5',
      max_tokens: 64000,
      top_k: 5,
      tools: [{ name: 'Bash', input_schema: { type: 'object', properties: {} } }],
      tool_choice: { type: 'auto', disable_parallel_tool_use: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(JSON.parse(res.text).content).toEqual([{ type: 'text', text: 'fast answer' }]);
    const sent = upstream.chatRequests[0]!;
    expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
    const body = sent.body as Record<string, unknown>;
    expect(body.model).toBe('gpt-oss-120b');
    expect(body.top_k).toBeUndefined();
    expect(body.parallel_tool_calls).toBeUndefined();
    expect(body.max_tokens).toBeUndefined();
    expect(body.max_completion_tokens).toBe(64000);
    const status = (await (await fetch(`${px.url}/_llm-proxy/status`)).json()) as { backends: Record<string, Record<string, unknown>> };
    expect(status.backends.cerebras).toMatchObject({ requestsRemainingToday: 99, tokensRemainingThisMinute: 5000, apiKey: 'set' });
    expect(JSON.stringify(status)).not.toContain(KEY);
  });

  it('explains a retired model and lists what Cerebras offers', async () => {
    upstream.setModels(['gpt-oss-120b', 'llama-3.3-70b', 'qwen-3-235b-a22b-instruct-2507']);
    upstream.enqueue({
      kind: 'error',
      status: 404,
      type: 'not_found_error',
      code: 'model_not_found',
      message: 'Model qwen-3-coder-480b does not exist or you do not have access to it.',
    });
    const res = await postMessages(px.url, { model: 'cerebras/qwen-3-coder-480b', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    // A 400: Claude Code replaces a 404's message with its own "issue with the selected model".
    expect(res.status).toBe(400);
    expect(res.headers.get('x-should-retry')).toBe('false');
    const message = JSON.parse(res.text).error.message as string;
    expect(message).toContain('qwen-3-coder-480b does not exist');
    expect(message).toContain('llama-3.3-70b');
    expect(message).toMatch(/set backends\.cerebras\.model/);
  });

  it('says when the quota resets on a 429', async () => {
    upstream.enqueue({ kind: 'error', status: 429, headers: { 'retry-after': '42' } });
    const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(429);
    // The fake's 429 is the daily request budget (remaining-requests-day: 0, resetting in 33011.4 s):
    // no point retrying, and retry-after is that true reset, not the upstream's 42 s, so that
    // Claude Code (which waits at most 60 s) stops at once.
    expect(res.headers.get('retry-after')).toBe('33012');
    expect(res.headers.get('x-should-retry')).toBe('false');
    const message = JSON.parse(res.text).error.message as string;
    expect(message).toMatch(/quota/i);
    expect(message).toMatch(/wait 9 h 11 min/);
    expect(message).toMatch(/waiting will not help today/);
    expect(message).toMatch(/llm-proxy switch/);
  });

  it('a rejected key says which variable to check, without the key', async () => {
    upstream.enqueue({ kind: 'error', status: 401 });
    const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
    // The proxy's key, not Claude Code's: a 502 that is not retried, never a 401 ("run /login").
    expect(res.status).toBe(502);
    expect(res.headers.get('x-should-retry')).toBe('false');
    expect(res.text).toMatch(/CEREBRAS_API_KEY/);
    expect(res.text).not.toContain(KEY);
    expect(px.logs.join('\n')).not.toContain(KEY);
  });
});
