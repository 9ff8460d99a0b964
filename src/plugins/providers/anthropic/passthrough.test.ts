import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicText, anthropicTextEvents, startFakeUpstream, type FakeUpstream } from '../../../../tests/support/fake-upstream.js';
import { parseSSE, postMessages, startProxy, type TestProxy } from '../../../../tests/support/proxy.js';

describe('anthropic pass-through and the legacy self-hosted shape', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'anthropic' });
    px = await startProxy({
      backend: 'vast-ai',
      backends: {
        // The shape the older Python proxies' users already have: no format means anthropic.
        'vast-ai': { type: 'self-hosted', url: upstream.url },
        direct: { type: 'anthropic', url: `${upstream.url}/v1`, apiKey: 'sk-ant-upstream-key', model: 'claude-haiku-4-5-20251001' },
        // Stands in for Anthropic's own API, which takes every field and beta as sent.
        api: { type: 'anthropic', url: upstream.url, server: 'anthropic-api' },
      },
    });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  it('forwards a stream unchanged in content, with the beta header and model', async () => {
    upstream.enqueue({ kind: 'anthropic-stream', events: anthropicTextEvents('pong', { pieces: 2 }) });
    const res = await postMessages(
      px.url,
      { model: 'api/claude-opus-4-8', max_tokens: 20, stream: true, messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'ping' }], thinking: { type: 'adaptive' }, output_config: { effort: 'high' } },
      { 'anthropic-beta': 'mid-conversation-system-2026-04-07', 'anthropic-version': '2023-06-01' },
    );
    expect(res.status).toBe(200);
    const events = parseSSE(res.text);
    expect(events.map((e) => e.event)).toEqual(anthropicTextEvents('pong', { pieces: 2 }).map((e) => e.type));
    const sent = upstream.chatRequests[0]!;
    expect(sent.path).toBe('/v1/messages');
    expect(sent.headers['anthropic-beta']).toBe('mid-conversation-system-2026-04-07');
    const body = sent.body as Record<string, unknown>;
    expect(body.model).toBe('claude-opus-4-8');
    expect(body.thinking).toEqual({ type: 'adaptive' });
    expect(body.output_config).toEqual({ effort: 'high' });
    expect((body.messages as Array<{ role: string }>)[0]!.role).toBe('system');
  });

  it('answers non-stream requests with the upstream JSON, via the SDK', async () => {
    upstream.enqueue({ kind: 'json', body: anthropicText('hello there') });
    const message = await px.client.messages.create({ model: 'direct/claude-haiku-4-5-20251001', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
    expect(message.content).toEqual([{ type: 'text', text: 'hello there' }]);
    expect(upstream.chatRequests[0]!.headers['x-api-key']).toBe('sk-ant-upstream-key');
  });

  it('turns an upstream event: error into an event: error for the client', async () => {
    upstream.enqueue({
      kind: 'anthropic-stream',
      events: [...anthropicTextEvents('par').slice(0, 3), { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
    });
    const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'x' }] });
    const last = parseSSE(res.text).at(-1)!;
    expect(last.event).toBe('error');
    expect(last.data).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
  });

  it('maps an upstream 529 to overloaded_error', async () => {
    upstream.enqueue({ kind: 'error', status: 529, type: 'overloaded_error', message: 'Overloaded' });
    const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(529);
    expect(JSON.parse(res.text).error.type).toBe('overloaded_error');
  });
});
