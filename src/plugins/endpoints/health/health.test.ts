import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startThreeBackends, type ThreeBackends } from '../../../../tests/support/three-backends.js';

describe('health-endpoint: HEAD /, GET / and GET /health', () => {
  let setup: ThreeBackends;
  beforeAll(async () => {
    setup = await startThreeBackends();
  });
  afterAll(async () => {
    await setup.close();
  });

  it('HEAD / and GET / answer without credentials', async () => {
    const { px } = setup;
    const head = await fetch(px.url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('request-id')).toMatch(/^req_/);
    const root = (await (await fetch(px.url)).json()) as { name: string; active: string };
    expect(root).toMatchObject({ name: 'llm-proxy', active: 'gpu' });
  });

  it('GET /health reports each backend', async () => {
    const { px } = setup;
    const res = await fetch(`${px.url}/health`);
    const report = (await res.json()) as { status: string; active: string; backends: Record<string, { status: string; type: string }> };
    expect(res.status).toBe(200);
    expect(report.active).toBe('gpu');
    expect(report.backends.gpu).toMatchObject({ status: 'ok', type: 'openai' });
    expect(report.backends.canned).toMatchObject({ status: 'ok', type: 'scripted' });
  });
});
