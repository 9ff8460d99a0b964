// POST /v1/messages/count_tokens: routed like a Messages request, then counted by the backend's
// server where it can (an Anthropic-format server's own count_tokens; vLLM and llama.cpp in
// context-window.test.ts), else estimated; `x-llm-proxy-token-count` says which.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMessages, startProxy, type TestProxy } from './support/proxy.js';
import { fixturesPresent, fixturesRequired, loadFixture } from './support/fixtures.js';
import { startThreeBackends, type ThreeBackends } from './support/three-backends.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';

const count = (url: string, body: unknown) =>
  fetch(`${url}/v1/messages/count_tokens?beta=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('count_tokens', () => {
  let setup: ThreeBackends;
  beforeAll(async () => {
    setup = await startThreeBackends();
  });
  afterAll(async () => {
    await setup.close();
  });

  it('a server without a tokenizer gets an estimate, said so, with ?beta=true', async () => {
    const { px } = setup;
    // 100 words of prose, about 110-130 tokens to any BPE tokenizer.
    const text = 'The quick brown fox jumps over the lazy dog near the river bank. '.repeat(8);
    const res = await count(px.url, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: text }] });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-llm-proxy-token-count')).toBe('estimate');
    expect(res.headers.get('x-llm-proxy-backend')).toBe('gpu');
    const body = (await res.json()) as { input_tokens: number };
    expect(body.input_tokens).toBeGreaterThanOrEqual(100);
    expect(body.input_tokens).toBeLessThan(160);
  });

  describe.skipIf(!fixturesPresent && !fixturesRequired)('real Claude Code bodies (../shared fixtures)', () => {
    it('count_tokens and messages accept pong-turn1.json', async () => {
      const { px } = setup;
      const { raw } = loadFixture('pong-turn1.json');
      const res = await count(px.url, raw);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(10_000);
      const answer = await postMessages(px.url, raw);
      expect(answer.status).toBe(200);
    });
  });
});

describe('count_tokens forwarded to an Anthropic-format server', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'anthropic' });
    px = await startProxy({ backend: 'api', backends: { api: { type: 'anthropic', url: upstream.url, apiKey: 'sk-test' } } });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });

  it("answers with the server's count, as exact, through the official SDK", async () => {
    upstream.enqueueCountTokens({ kind: 'json', body: { input_tokens: 4242 } });
    const { data, response } = await px.client.messages
      .countTokens({ model: 'claude-sonnet-4-5', system: 'Be brief.', messages: [{ role: 'user', content: 'hello' }] })
      .withResponse();
    expect(data.input_tokens).toBe(4242);
    expect(response.headers.get('x-llm-proxy-token-count')).toBe('exact');
    const sent = upstream.requests.filter((r) => r.endpoint === 'count_tokens').at(-1);
    // Only the fields count_tokens takes; max_tokens, stream and metadata would be refused.
    expect(sent?.body).toEqual({ model: 'claude-sonnet-4-5', system: 'Be brief.', messages: [{ role: 'user', content: 'hello' }] });
  });

  it('a body the server refuses is a clear 400, and the proxy keeps counting', async () => {
    upstream.enqueueCountTokens({ kind: 'error', status: 400, type: 'invalid_request_error', message: 'messages.0.content.0: unknown block type "widget"' });
    const res = await count(px.url, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hello' }] });
    expect(res.status).toBe(400);
    const error = (await res.json()) as { error: { type: string; message: string } };
    expect(error.error.type).toBe('invalid_request_error');
    expect(error.error.message).toContain('unknown block type "widget"');
    upstream.enqueueCountTokens({ kind: 'json', body: { input_tokens: 7 } });
    const again = await count(px.url, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hi' }] });
    expect(((await again.json()) as { input_tokens: number }).input_tokens).toBe(7);
  });

  it('a server without count_tokens (404) is estimated from then on, without asking again', async () => {
    upstream.enqueueCountTokens({ kind: 'error', status: 404, type: 'not_found_error', message: 'Not Found' });
    const first = await count(px.url, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hello there' }] });
    expect(first.headers.get('x-llm-proxy-token-count')).toBe('estimate');
    const asked = upstream.requests.filter((r) => r.endpoint === 'count_tokens').length;
    const second = await count(px.url, { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hello there' }] });
    expect(second.headers.get('x-llm-proxy-token-count')).toBe('estimate');
    expect(upstream.requests.filter((r) => r.endpoint === 'count_tokens')).toHaveLength(asked);
  });
});
