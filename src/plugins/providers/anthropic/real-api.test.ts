import { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicTextEvents, startFakeUpstream, type FakeUpstream } from '../../../../tests/support/fake-upstream.js';
import { fixturesPresent, fixturesRequired, loadFixture } from '../../../../tests/support/fixtures.js';
import { NO_CIRCUIT, parseError, parseSSE, postMessages, startProxy, type TestProxy } from '../../../../tests/support/proxy.js';

// Anthropic's own API takes every field and beta Claude Code sends, and Claude Code reads its
// error messages. Nothing outside can be reached, so a local upstream stands in for it through
// a backend that says what it is (`server: "anthropic-api"`), as a gateway in front of it would.

const CONTEXT_LIMIT = 'input length and `max_tokens` exceed context limit: 193125 + 21333 > 200000, decrease input length or `max_tokens` and try again';
const RATE_LIMIT = 'This request would exceed the rate limit for your organization (org-1) of 450,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits.';

describe.skipIf(!fixturesPresent && !fixturesRequired)("Anthropic's own API: the request as sent, the errors as said", () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'anthropic' });
    px = await startProxy({
      backend: 'api',
      backends: {
        api: { type: 'anthropic', url: upstream.url, apiKey: 'sk-ant-test', server: 'anthropic-api', cache: false },
        local: { type: 'anthropic', url: upstream.url, cache: false },
      },
      plugins: [NO_CIRCUIT],
    });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });
  beforeEach(() => upstream.reset());

  const headers = (): Record<string, string> => {
    const captured = loadFixture('tool-turn2.headers').body as Record<string, string>;
    const { host: _host, 'content-length': _length, connection: _connection, 'accept-encoding': _encoding, 'x-api-key': _key, ...rest } = captured;
    return rest;
  };

  it('gets the Claude Code request byte for byte: the system array in order, every beta untouched', async () => {
    upstream.enqueue({ kind: 'anthropic-stream', events: anthropicTextEvents('done') });
    const { body } = loadFixture('tool-turn2');
    const sentHeaders = headers();
    const res = await postMessages(px.url, body, sentHeaders);
    expect(res.status).toBe(200);
    const sent = upstream.chatRequests[0]!;
    expect(sent.rawBody).toBe(JSON.stringify(body));
    expect(sent.headers['anthropic-beta']).toBe(sentHeaders['anthropic-beta']);
    // Its attribution block first: prompt caching keys on the prefix.
    expect(((sent.body as { system: Array<{ text: string }> }).system[0]!.text)).toMatch(/^x-anthropic-billing-header: /);
    expect(res.headers.get('x-llm-proxy-stripped')).toBeNull();
    expect(px.proxy.kernel.backends.get('api')!.isAnthropicApi).toBe(true);
    expect(px.proxy.kernel.backends.get('local')!.isAnthropicApi).toBe(false);
  });

  it('keeps what other servers lose: scoped cache_control, deferred tools, system messages, signed thinking', async () => {
    upstream.enqueue({ kind: 'anthropic-stream', events: anthropicTextEvents('done') });
    const body = structuredClone(loadFixture('tool-turn2').body) as Record<string, unknown> & { system: Array<Record<string, unknown>>; tools: Array<Record<string, unknown>> };
    body.system[1]!.cache_control = { type: 'ephemeral', scope: 'global' };
    body.tools[0]!.defer_loading = true;
    const messages = body.messages as Array<{ role: string; content: unknown }>;
    messages[2]!.content = [{ type: 'thinking', thinking: 'run it', signature: 'EqQBsig' }, { type: 'redacted_thinking', data: 'EmwK' }, ...(messages[2]!.content as unknown[])];
    await postMessages(px.url, body, headers());
    expect(upstream.chatRequests[0]!.rawBody).toBe(JSON.stringify(body));
  });

  for (const [status, type, message] of [
    [400, 'invalid_request_error', CONTEXT_LIMIT],
    [429, 'rate_limit_error', RATE_LIMIT],
    [529, 'overloaded_error', 'Overloaded'],
  ] as const) {
    it(`passes a ${status}'s message on unchanged (Claude Code's retry logic matches its wording)`, async () => {
      upstream.enqueue({ kind: 'error', status, type, message, headers: status === 429 ? { 'retry-after': '7' } : {} });
      const res = await postMessages(px.url, { ...loadFixture('tool-turn2').body, stream: false });
      expect(res.status).toBe(status);
      expect(parseError(res.text).error).toEqual({ type, message });
      if (status === 429) expect(res.headers.get('retry-after')).toBe('7');
    });
  }

  it('the Anthropic SDK sees the same message, and a stream ends with the API\'s own error', async () => {
    upstream.enqueue({ kind: 'error', status: 400, type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' });
    const error = await px.client.messages.create({ model: 'claude-opus-4-8', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' } });

    upstream.enqueue({ kind: 'anthropic-stream', events: [...anthropicTextEvents('par').slice(0, 3), { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }] });
    const res = await postMessages(px.url, { model: 'claude-opus-4-8', max_tokens: 100, stream: true, messages: [{ role: 'user', content: 'hi' }] });
    expect(parseSSE(res.text).at(-1)).toEqual({ event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
  });

  it('still explains a refused key (the proxy\'s), and wraps every message of a server that is not the API', async () => {
    upstream.enqueue({ kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    const refused = await postMessages(px.url, { model: 'claude-opus-4-8', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(refused.status).toBe(502);
    expect(parseError(refused.text).error.message).toMatch(/^\[llm-proxy: backend "api"\] .*check the API key configured for this backend/);

    upstream.enqueue({ kind: 'error', status: 400, type: 'invalid_request_error', message: CONTEXT_LIMIT });
    const local = await postMessages(px.url, { model: 'local/claude-opus-4-8', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    expect(parseError(local.text).error.message).toBe(`[llm-proxy: backend "local"] upstream returned HTTP 400 (invalid_request_error): ${CONTEXT_LIMIT}`);
  });
});
