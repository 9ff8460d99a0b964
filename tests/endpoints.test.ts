import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from './support/proxy.js';
import { fixturesPresent, fixturesRequired, loadFixture } from './support/fixtures.js';

describe('models, health, count_tokens, routing and switching', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('ok') });
    px = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: openaiBackend(upstream.url, { models: { '*haiku*': 'small-model' } }),
        other: openaiBackend(upstream.url, { model: 'other-model' }),
        canned: { type: 'scripted', responses: [{ text: 'canned answer' }] },
      },
    });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });

  it('HEAD / and GET / answer without credentials', async () => {
    const head = await fetch(px.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('request-id')).toMatch(/^req_/);
    const root = (await (await fetch(px.url)).json()) as { name: string; active: string };
    expect(root).toMatchObject({ name: 'llm-proxy', active: 'gpu' });
  });

  it('GET /v1/models lists backends and their models in Anthropic shape', async () => {
    const list = (await (await fetch(`${px.url}/v1/models`)).json()) as { data: Array<{ type: string; id: string }>; has_more: boolean };
    expect(list.has_more).toBe(false);
    const ids = list.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['gpu', 'gpu/qwen3-coder:30b', 'other/other-model', 'canned']));
    expect(list.data.every((m) => m.type === 'model')).toBe(true);
    const one = await fetch(`${px.url}/v1/models/other/other-model`);
    expect(one.status).toBe(200);
    expect(((await one.json()) as { id: string }).id).toBe('other/other-model');
    const missing = await fetch(`${px.url}/v1/models/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
  });

  it('GET /health reports each backend', async () => {
    const res = await fetch(`${px.url}/health`);
    const report = (await res.json()) as { status: string; active: string; backends: Record<string, { status: string; type: string }> };
    expect(res.status).toBe(200);
    expect(report.active).toBe('gpu');
    expect(report.backends.gpu).toMatchObject({ status: 'ok', type: 'openai' });
    expect(report.backends.canned).toMatchObject({ status: 'ok', type: 'scripted' });
  });

  it('count_tokens answers with an estimate, with ?beta=true', async () => {
    const res = await fetch(`${px.url}/v1/messages/count_tokens?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'a'.repeat(400) }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { input_tokens: number };
    expect(body.input_tokens).toBeGreaterThanOrEqual(100);
    expect(body.input_tokens).toBeLessThan(200);
  });

  it('maps models by glob, by backend/model, by backend,model and by a bare backend name', async () => {
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

  it('switches the active backend at run time', async () => {
    const res = await fetch(`${px.url}/_llm-proxy/switch`, { method: 'POST', body: JSON.stringify({ backend: 'canned' }) });
    expect(await res.json()).toEqual({ active: 'canned', previous: 'gpu' });
    const answer = await postMessages(px.url, { model: 'claude-opus-4-8', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    expect(JSON.parse(answer.text).content[0].text).toBe('canned answer');
    const bad = await fetch(`${px.url}/_llm-proxy/switch`, { method: 'POST', body: JSON.stringify({ backend: 'nope' }) });
    expect(bad.status).toBe(404);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/gpu, other, canned/);
    px.proxy.switchBackend('gpu');
  });

  describe.skipIf(!fixturesPresent && !fixturesRequired)('real Claude Code bodies (../shared fixtures)', () => {
    it('count_tokens and messages accept pong-turn1.json', async () => {
      const { raw } = loadFixture('pong-turn1.json');
      const res = await fetch(`${px.url}/v1/messages/count_tokens?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(10_000);
      const answer = await postMessages(px.url, raw);
      expect(answer.status).toBe(200);
    });
  });
});

describe('client keys', () => {
  it('requires a configured key everywhere but HEAD / and /health', async () => {
    const px = await startProxy(
      { backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: 'hi' }] } }, auth: { keys: ['client-key-1', 'client-key-2'] } },
      { apiKey: 'client-key-2' },
    );
    try {
      expect((await fetch(px.url, { method: 'HEAD' })).status).toBe(200);
      expect((await fetch(`${px.url}/health`)).status).toBe(200);
      const body = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };
      const wrong = await postMessages(px.url, body, { 'x-api-key': 'nope' });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.text).error.type).toBe('authentication_error');
      expect((await fetch(`${px.url}/v1/models`)).status).toBe(401);
      const bearer = await postMessages(px.url, body, { 'x-api-key': '', authorization: 'Bearer client-key-1' });
      expect(bearer.status).toBe(200);
      const viaSdk = await px.client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
      expect(viaSdk.content[0]).toEqual({ type: 'text', text: 'hi' });
    } finally {
      await px.close();
    }
  });

  it('refuses to listen beyond loopback without keys', async () => {
    const { createProxy } = await import('../src/proxy.js');
    const proxy = await createProxy({ backend: 'c', backends: { c: { type: 'scripted', responses: [{ text: 'x' }] } }, logLevel: 'silent' });
    await expect(proxy.listen(0, '0.0.0.0')).rejects.toThrow(/without client keys/);
    await proxy.close();
  });
});
