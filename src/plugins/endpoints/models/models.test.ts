import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThreeBackends, type ThreeBackends } from '../../../../tests/support/three-backends.js';

describe('models-endpoint: GET /v1/models', () => {
  let setup: ThreeBackends;
  beforeAll(async () => {
    setup = await startThreeBackends();
    // Before the first list: the endpoint keeps each server's list for a minute.
    setup.upstream.setModels(['qwen3-coder:30b', 'other-model', 'served-only-model']);
  });
  afterAll(async () => {
    await setup.close();
  });

  it('GET /v1/models lists backends and their models in Anthropic shape', async () => {
    const { px } = setup;
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

  it("pages as the Models API does, and the official SDK's auto-pagination walks every page", async () => {
    const { px } = setup;
    const all = ((await (await fetch(`${px.url}/v1/models?limit=1000`)).json()) as { data: Array<{ id: string }> }).data.map((m) => m.id);
    expect(all.length).toBeGreaterThan(3);
    const first = (await (await fetch(`${px.url}/v1/models?limit=2`)).json()) as { data: Array<{ id: string }>; has_more: boolean; first_id: string; last_id: string };
    expect(first).toMatchObject({ has_more: true, first_id: all[0], last_id: all[1] });
    const next = (await (await fetch(`${px.url}/v1/models?limit=2&after_id=${encodeURIComponent(first.last_id)}`)).json()) as { data: Array<{ id: string }> };
    expect(next.data.map((m) => m.id)).toEqual(all.slice(2, 4));
    const back = (await (await fetch(`${px.url}/v1/models?limit=2&before_id=${encodeURIComponent(all[3]!)}`)).json()) as { data: Array<{ id: string }>; has_more: boolean };
    expect(back.data.map((m) => m.id)).toEqual(all.slice(1, 3));
    expect(back.has_more).toBe(true);

    const client = new Anthropic({ baseURL: px.url, apiKey: 'test-key' });
    const walked: string[] = [];
    for await (const model of client.models.list({ limit: 2 })) walked.push(model.id);
    expect(walked).toEqual(all);
    expect((await client.models.retrieve('gpu/qwen3-coder:30b')).id).toBe('gpu/qwen3-coder:30b');

    for (const bad of ['limit=0', 'limit=1001', 'limit=two', 'after_id=nope', 'after_id=gpu&before_id=canned']) {
      const res = await fetch(`${px.url}/v1/models?${bad}`);
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: { type: string } }).error.type, bad).toBe('invalid_request_error');
    }
  });

  it("lists anthropic/<backend> for Claude Code's /model picker, and the models each server lists; each id routes", async () => {
    const { px, upstream } = setup;
    const ids = ((await (await fetch(`${px.url}/v1/models?limit=1000`)).json()) as { data: Array<{ id: string; display_name: string }> }).data;
    // Claude Code 2.1.197 keeps a gateway's models whose id matches /^(claude|anthropic)/i.
    const picked = ids.filter((m) => /^(claude|anthropic)/i.test(m.id));
    expect(picked.map((m) => m.id)).toEqual(['anthropic/gpu', 'anthropic/other', 'anthropic/canned']);
    expect(picked[0]?.display_name).toBe('gpu · qwen3-coder:30b (llm-proxy)');
    expect(ids.map((m) => m.id)).toContain('gpu/served-only-model');

    const answer = await px.client.messages.create({ model: 'anthropic/canned', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    expect(answer.content[0]).toMatchObject({ type: 'text', text: 'canned answer' });
    const chat = upstream.chatRequests.length;
    await px.client.messages.create({ model: 'anthropic/gpu/served-only-model', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });
    expect(upstream.chatRequests[chat]?.body).toMatchObject({ model: 'served-only-model' });
  });

  it('GET /v1/models/{id} answers for every id the proxy routes, listed or not', async () => {
    const { px } = setup;
    const client = new Anthropic({ baseURL: px.url, apiKey: 'test-key' });
    for (const [id, display] of [
      ['anthropic/other', 'other · other-model (llm-proxy)'],
      ['gpu/any-model-at-all', 'any-model-at-all on gpu'],
      ['gpu,comma-model', 'comma-model on gpu'],
      ['anthropic/gpu/picked', 'picked on gpu'],
      ['claude-opus-4-5', 'claude-opus-4-5, answered by the active backend (gpu)'],
    ] as const) {
      const model = await client.models.retrieve(id);
      expect(model, id).toMatchObject({ type: 'model', id, display_name: display });
    }
    await expect(client.models.retrieve('anthropic/nope')).rejects.toBeInstanceOf(Anthropic.NotFoundError);
  });
});
