import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../../tests/support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy, parseError, type ErrorJson } from '../../../../tests/support/proxy.js';

const ok = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };

describe('a malformed Messages request gets Anthropic errors and the server keeps serving', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('still here') });
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, server: { bodyLimit: '200kb' } });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });

  const cases: Array<[string, unknown, number, string, RegExp]> = [
    ['missing model', { max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }, 400, 'invalid_request_error', /model/],
    ['missing max_tokens', { model: 'm', messages: [{ role: 'user', content: 'x' }] }, 400, 'invalid_request_error', /max_tokens/],
    ['wrong max_tokens type', { ...ok, max_tokens: 'ten' }, 400, 'invalid_request_error', /max_tokens/],
    ['missing messages', { model: 'm', max_tokens: 10 }, 400, 'invalid_request_error', /messages/],
    ['empty messages', { ...ok, messages: [] }, 400, 'invalid_request_error', /at least one/],
    ['a bad role', { ...ok, messages: [{ role: 'robot', content: 'x' }] }, 400, 'invalid_request_error', /messages\.0\.role/],
    ['a bad tool_choice', { ...ok, tool_choice: { type: 'sometimes' } }, 400, 'invalid_request_error', /tool_choice/],
  ];

  for (const [name, body, status, type, message] of cases) {
    it(`rejects ${name}`, async () => {
      const res = await postMessages(px.url, body);
      expect(res.status).toBe(status);
      const error = parseError(res.text);
      expect(error.type).toBe('error');
      expect(error.error.type).toBe(type);
      expect(error.error.message).toMatch(message);
      expect(error.request_id).toBe(res.headers.get('request-id'));
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    });
  }

  it('accepts unknown fields and still serves after all of the above', async () => {
    const res = await postMessages(px.url, { ...ok, some_future_field: { a: 1 }, metadata: { user_id: 'u' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text).content[0].text).toBe('still here');
  });

  it('checks count_tokens too, where max_tokens is not needed', async () => {
    const count = (body: unknown) =>
      fetch(`${px.url}/v1/messages/count_tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const withoutMaxTokens = await count({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(withoutMaxTokens.status).toBe(200);
    expect(((await withoutMaxTokens.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    const badRole = await count({ model: 'm', messages: [{ role: 'robot', content: 'x' }] });
    expect(badRole.status).toBe(400);
    const error = (await badRole.json()) as ErrorJson;
    expect(error.error.type).toBe('invalid_request_error');
    expect(error.error.message).toMatch(/^\[llm-proxy\] messages\.0\.role: /);
  });
});
