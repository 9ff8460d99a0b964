import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThreeBackends, type ThreeBackends } from '../../../../tests/support/three-backends.js';

describe('models-endpoint: GET /v1/models', () => {
  let setup: ThreeBackends;
  beforeAll(async () => {
    setup = await startThreeBackends();
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
});
