// `llm-proxy recommend`, the real CLI as a separate process: from a running proxy's live state
// (a Cerebras-speaking fake server that has spent its daily quota), and, with no proxy running,
// from probes of the configured backends.

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { freePort } from './support/free-port.js';
import { cleanup, run, sandbox, scripted, startProxy } from './support/cli.js';

afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

describe('llm-proxy recommend', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'cerebras' });
  });
  afterAll(async () => {
    await upstream.close();
  });

  it("reads the running proxy's quota: the active backend spent its day, so it names the other and the command", async () => {
    const box = sandbox({
      backend: 'cloud',
      port: 'auto',
      backends: { cloud: { type: 'cerebras', apiKey: 'csk-test-RECOMMEND-0123456789', apiUrl: `${upstream.url}/v1`, model: 'gpt-oss-120b' }, spare: scripted('spare') },
    });
    const proxy = await startProxy(box);
    upstream.enqueue({ kind: 'error', status: 429, message: 'Requests per day limit exceeded.', rateLimit: { remainingRequestsDay: 0, resetRequestsDay: 30_000 } });
    const failed = await fetch(`${proxy.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'recommend me' }] }),
    });
    expect(failed.status).toBe(429);

    const text = await run(box, ['recommend']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/cloud\s+quota used up .*\(active\)/);
    expect(text.stdout).toMatch(/requests per day \(14400\): 0 left, resets at \S+Z \(in 8 h 20 min\)/);
    expect(text.stdout).toMatch(/spare\s+ok .*\(recommended\)/);
    expect(text.stdout).toContain('→ cloud has used up a rate limit; spare answers');
    expect(text.stdout).toContain('(from the running proxy)');
    expect(text.stdout).toMatch(/^ {2}llm-proxy switch spare$/m);
    expect(text.stdout).not.toContain('csk-test-RECOMMEND');

    const json = await run(box, ['recommend', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      source: 'running proxy',
      active: 'cloud',
      use: 'spare',
      command: 'llm-proxy switch spare',
      backends: [
        { name: 'cloud', active: true, exhausted: true, quota: expect.stringContaining('requests per day (14400): 0 left') },
        { name: 'spare', active: false, health: 'ok', exhausted: false },
      ],
    });
  });

  it('probes the configured backends itself when no proxy runs, and exits 4 when none answers', async () => {
    const closed = await freePort();
    const box = sandbox({
      backend: 'gpu',
      backends: { gpu: { type: 'openai', url: `http://127.0.0.1:${closed}/v1`, model: 'm' }, local: scripted('local') },
    });
    const result = await run(box, ['recommend']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/gpu\s+down .*\(active\)/);
    expect(result.stdout).toContain('→ gpu is down; local answers');
    expect(result.stdout).toContain('(from probes just now; no proxy is running, so the quota is unknown)');
    // No proxy to switch: the command starts one on it.
    expect(result.stdout).toMatch(/^ {2}LLM_BACKEND=local llm-proxy start$/m);

    // A probe's detail quotes the backend's answer; one that echoes the key is shown without it.
    const KEY = 'sk-test-RECOMMEND-PROBE-0123456789';
    const echo = await startFakeUpstream({ format: 'openai' });
    echo.setModelsReply({ kind: 'error', status: 401, message: `Incorrect API key provided: ${KEY}` });
    try {
      const keyed = sandbox({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${echo.url}/v1`, apiKey: KEY, model: 'm' }, local: scripted('local') } });
      const shown = await run(keyed, ['recommend', '--json']);
      expect(shown.code, shown.stderr).toBe(0);
      expect(JSON.parse(shown.stdout).backends[0]).toMatchObject({ name: 'gpu', health: 'down', detail: expect.stringContaining('Incorrect API key provided: [redacted]') });
      expect(shown.stdout + shown.stderr).not.toContain(KEY);
    } finally {
      await echo.close();
    }

    const none = sandbox({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `http://127.0.0.1:${closed}/v1`, model: 'm' } } });
    const down = await run(none, ['recommend', '--json']);
    expect(down.code).toBe(4);
    expect(JSON.parse(down.stdout)).toMatchObject({ source: 'probes', active: 'gpu', reason: 'gpu is down, and no other configured backend answers with quota left' });
    expect(JSON.parse(down.stdout).use).toBeUndefined();
  });
});
