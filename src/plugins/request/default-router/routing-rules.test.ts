import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../../tests/support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from '../../../../tests/support/proxy.js';
import { startThreeBackends, type ThreeBackends } from '../../../../tests/support/three-backends.js';

describe('the rules that pick a backend and an upstream model', () => {
  let setup: ThreeBackends;
  beforeAll(async () => {
    setup = await startThreeBackends();
  });
  afterAll(async () => {
    await setup.close();
  });

  it('maps models by glob, by backend/model, by backend,model and by a bare backend name', async () => {
    const { upstream, px } = setup;
    upstream.reset();
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('ok') });
    const ask = (model: string) => postMessages(`${px.url}`, { model, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    await ask('claude-haiku-4-5-20251001');
    await ask('claude-opus-4-8');
    await ask('other/Qwen/Qwen3-Coder-30B');
    await ask('other,big-model');
    await ask('other');
    const models = upstream.chatRequests.map((r) => (r.body as { model: string }).model);
    expect(models).toEqual(['small-model', 'qwen3-coder:30b', 'Qwen/Qwen3-Coder-30B', 'big-model', 'other-model']);
    const canned = await ask('canned/anything');
    expect(JSON.parse(canned.text).content[0].text).toBe('canned answer');
  });
});

describe('an unknown backend gets an Anthropic error', () => {
  const ok = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] };
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

  it('rejects an unknown backend', async () => {
    const res = await postMessages(px.url, { ...ok, model: 'nope,some-model' });
    expect(res.status).toBe(400);
    const error = JSON.parse(res.text) as { type: string; error: { type: string; message: string }; request_id: string };
    expect(error.type).toBe('error');
    expect(error.error.type).toBe('invalid_request_error');
    expect(error.error.message).toMatch(/Unknown backend "nope"/);
    expect(error.request_id).toBe(res.headers.get('request-id'));
    expect(res.text).not.toMatch(/at .*\.ts:\d+/);
  });
});
