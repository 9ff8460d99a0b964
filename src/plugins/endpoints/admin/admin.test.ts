import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMessages } from '../../../../tests/support/proxy.js';
import { startThreeBackends, type ThreeBackends } from '../../../../tests/support/three-backends.js';
import { VERSION } from '../../../version.js';
import type { StatusReport } from './index.js';

describe('admin-endpoint: GET /_llm-proxy/status and POST /_llm-proxy/switch from loopback', () => {
  let setup: ThreeBackends;
  beforeAll(async () => {
    setup = await startThreeBackends();
  });
  afterAll(async () => {
    await setup.close();
  });

  it('GET /_llm-proxy/status reports the process, the active backend, each backend and the health report', async () => {
    const { px } = setup;
    const res = await fetch(`${px.url}/_llm-proxy/status`);
    expect(res.status).toBe(200);
    const report = (await res.json()) as StatusReport;
    expect(report).toMatchObject({ name: 'llm-proxy', version: VERSION, pid: process.pid, active: 'gpu' });
    expect(Number.isInteger(report.uptimeSeconds)).toBe(true);
    expect(Object.keys(report.backends)).toEqual(['gpu', 'other', 'canned']);
    expect(report.backends.gpu).toMatchObject({ type: 'openai', model: 'qwen3-coder:30b' });
    expect(report.backends.canned).toEqual({ type: 'scripted', responses: 1 });
    expect(report.health).toMatchObject({ active: 'gpu', backends: { gpu: { status: 'ok' }, canned: { status: 'ok', type: 'scripted' } } });
  });

  it('switches the active backend at run time', async () => {
    const { px } = setup;
    const res = await fetch(`${px.url}/_llm-proxy/switch`, { method: 'POST', body: JSON.stringify({ backend: 'canned' }) });
    expect(await res.json()).toEqual({ active: 'canned', previous: 'gpu' });
    const answer = await postMessages(px.url, { model: 'claude-opus-4-8', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
    expect(JSON.parse(answer.text).content[0].text).toBe('canned answer');
    const bad = await fetch(`${px.url}/_llm-proxy/switch`, { method: 'POST', body: JSON.stringify({ backend: 'nope' }) });
    expect(bad.status).toBe(404);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(/gpu, other, canned/);
    px.proxy.switchBackend('gpu');
  });

  it('a switch shows in the status report and the log; a body that is not JSON is a 400', async () => {
    const { px } = setup;
    const switched = await fetch(`${px.url}/_llm-proxy/switch`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ backend: 'other' }),
    });
    try {
      expect(await switched.json()).toEqual({ active: 'other', previous: 'gpu' });
      const report = (await (await fetch(`${px.url}/_llm-proxy/status`)).json()) as StatusReport;
      expect(report.active).toBe('other');
      expect(report.health.active).toBe('other');
      expect(px.logs.map((line) => (JSON.parse(line) as { msg: string }).msg)).toContain('switched active backend gpu -> other');
      const notJson = await fetch(`${px.url}/_llm-proxy/switch`, { method: 'POST', body: 'canned' });
      expect(notJson.status).toBe(400);
      const error = (await notJson.json()) as { error: { type: string; message: string } };
      expect(error.error.type).toBe('invalid_request_error');
      expect(error.error.message).toMatch(/expected \{"backend": "<name>"\}/);
      expect(((await (await fetch(`${px.url}/_llm-proxy/status`)).json()) as StatusReport).active).toBe('other');
    } finally {
      px.proxy.switchBackend('gpu');
    }
  });
});
