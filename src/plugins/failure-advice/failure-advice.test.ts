import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, ProxyError } from '../../errors.js';
import { failureAdvice } from './index.js';
import { isLoopback } from '../../upstream/transport-error.js';
import { startFakeUpstream, type FakeUpstream } from '../../../tests/support/fake-upstream.js';
import { postMessages, startProxy, type TestProxy } from '../../../tests/support/proxy.js';
import { freePort } from '../../../tests/support/free-port.js';

const ask = (model: string) => ({ model, max_tokens: 10, messages: [{ role: 'user', content: `hi ${Math.random()}` }] });
const messageOf = (text: string): string => (JSON.parse(text) as { error: { message: string } }).error.message;

describe('failure-advice: a failing backend names the ones that answer now', () => {
  let healthy: FakeUpstream;
  let hanging: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    healthy = await startFakeUpstream({ format: 'openai' });
    hanging = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({
      backend: 'dead',
      backends: {
        dead: { type: 'openai', url: `http://127.0.0.1:${await freePort()}/v1`, model: 'm' },
        healthy: { type: 'openai', url: `${healthy.url}/v1`, model: 'qwen3-coder:30b' },
        // Its model list never answers: the probe gives up after probeTimeoutMs.
        hanging: { type: 'openai', url: `${hanging.url}/v1`, model: 'qwen3-coder:30b' },
        down: { type: 'openai', url: `http://127.0.0.1:${await freePort()}/v1`, model: 'm' },
      },
      plugins: [failureAdvice({ probeTimeoutMs: 300, cacheMs: 60_000 })],
    });
  });
  afterAll(async () => {
    await px?.close();
    await healthy?.close();
    await hanging?.close();
  });
  beforeEach(() => {
    hanging.setModelsReply({ kind: 'hang' });
  });

  it('a connection error lists the healthy backends only, and says x-should-retry: false', async () => {
    const res = await postMessages(px.url, ask('claude-sonnet-4-5'));
    expect(res.status).toBe(502);
    expect(res.headers.get('x-should-retry')).toBe('false');
    const message = messageOf(res.text);
    expect(message).toContain('connection refused');
    expect(message).toContain('switch to a backend that answers now: `llm-proxy switch healthy`');
    expect(message).not.toContain('switch hanging');
    expect(message).not.toContain('switch down');
  });

  it('probes each backend once while its answer is fresh', async () => {
    const probes = () => healthy.requests.filter((r) => r.endpoint === 'models').length;
    await postMessages(px.url, ask('claude-sonnet-4-5'));
    const after = probes();
    await postMessages(px.url, ask('claude-sonnet-4-5'));
    await postMessages(px.url, ask('claude-opus-4-1'));
    expect(after).toBe(1);
    expect(probes()).toBe(1);
  });

  it('adds nothing to a request problem (a 400)', async () => {
    healthy.enqueue({ kind: 'error', status: 400, message: 'bad tool schema' });
    const res = await postMessages(px.url, ask('healthy'));
    expect(res.status).toBe(400);
    expect(messageOf(res.text)).not.toContain('llm-proxy switch');
  });

  it('says so when no other backend answers', async () => {
    const lonely = await startProxy({
      backend: 'dead',
      backends: {
        dead: { type: 'openai', url: `http://127.0.0.1:${await freePort()}/v1`, model: 'm' },
        down: { type: 'openai', url: `http://127.0.0.1:${await freePort()}/v1`, model: 'm' },
      },
    });
    try {
      const message = messageOf((await postMessages(lonely.url, ask('claude-sonnet-4-5'))).text);
      expect(message).toContain('no other configured backend answers right now either (down)');
    } finally {
      await lonely.close();
    }
  });

  it('validates its options at start, naming the field', () => {
    expect(() => failureAdvice({ probeTimeoutMs: -1 })).toThrow(ConfigError);
    expect(() => failureAdvice({ cacheMs: 'soon' as unknown as number })).toThrow(/plugins\.failure-advice\.cacheMs/);
  });
});

describe('ProxyError advice and retry flags', () => {
  it('advise() adds new lines only and keeps status and type', () => {
    const error = new ProxyError('boom', { code: 'upstream_unreachable', type: 'api_error', status: 502, retryable: false, recommendations: ['a'] });
    error.advise('a', 'b');
    expect(error.recommendations).toEqual(['a', 'b']);
    expect([error.status, error.type, error.retryable]).toEqual([502, 'api_error', false]);
    expect(error.clientMessage()).toBe('[llm-proxy] boom. What to do: a; b.');
  });

  it('treats only this machine as local for a refused connection', () => {
    for (const origin of ['http://127.0.0.1:11434', 'http://localhost:8000', 'http://[::1]:1', 'http://127.1.2.3', 'http://gpu.localhost']) {
      expect(isLoopback(origin), origin).toBe(true);
    }
    for (const origin of ['http://10.0.0.5:11434', 'https://api.cerebras.ai', 'http://192.168.1.20:8000']) expect(isLoopback(origin), origin).toBe(false);
  });
});
