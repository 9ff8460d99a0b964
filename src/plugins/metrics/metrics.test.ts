import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../tests/support/fake-upstream.js';
import { NO_CIRCUIT, openaiBackend, postMessages, startProxy, type TestProxy } from '../../../tests/support/proxy.js';
import { PROMETHEUS_MISSING, prometheusPresent, promtoolCheck, startPrometheus, type PrometheusServer } from '../../../tests/support/prometheus.js';

const required = process.env.LLM_PROXY_REQUIRE_FIXTURES === '1';
if (!prometheusPresent && !required) console.warn(`skipping the Prometheus tests: ${PROMETHEUS_MISSING}`);

/** The value of one sample line `name{labels} value`, by its name and the labels it must carry. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe.skipIf(!prometheusPresent && !required)('GET /metrics after a scripted run', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  let prometheus: PrometheusServer;
  let text = '';
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [NO_CIRCUIT] });
    const ask = (content: string, stream = false) =>
      postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 20, stream, messages: [{ role: 'user', content }] });
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('first answer', { usage: { prompt_tokens: 11, completion_tokens: 3 } }) });
    expect((await ask('one')).status).toBe(200);
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('streamed answer', { usage: { prompt_tokens: 13, completion_tokens: 4 } }) });
    expect((await ask('two', true)).status).toBe(200);
    expect((await ask('one')).headers.get('x-llm-proxy-cache')).toBe('hit');
    upstream.enqueue({ kind: 'error', status: 500, message: 'model crashed' });
    expect((await ask('three')).status).toBe(502);
    const res = await fetch(`${px.url}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    text = await res.text();
  });
  afterAll(async () => {
    await prometheus?.stop();
    await px?.close();
    await upstream?.close();
  });

  it('counts requests by backend, status and cache status, and the tokens and errors', () => {
    expect(sample(text, 'llm_proxy_requests_total', { backend: 'gpu', status: '200', cache: 'miss' })).toBe(2);
    expect(sample(text, 'llm_proxy_requests_total', { backend: 'gpu', status: '200', cache: 'hit' })).toBe(1);
    expect(sample(text, 'llm_proxy_requests_total', { backend: 'gpu', status: '502', cache: 'miss' })).toBe(1);
    expect(sample(text, 'llm_proxy_upstream_errors_total', { backend: 'gpu', code: 'upstream_500' })).toBe(1);
    // The two answers from the backend and the one from the cache.
    expect(sample(text, 'llm_proxy_tokens_total', { backend: 'gpu', direction: 'output' })).toBe(3 + 4 + 3);
    expect(sample(text, 'llm_proxy_cache_requests_total', { status: 'hit', tier: 'memory' })).toBe(1);
    expect(sample(text, 'llm_proxy_request_duration_seconds_count', { backend: 'gpu', stream: 'false' })).toBe(3);
    expect(sample(text, 'llm_proxy_time_to_first_token_seconds_count', { backend: 'gpu' })).toBe(1);
    expect(sample(text, 'llm_proxy_requests_in_flight')).toBe(0);
    expect(sample(text, 'llm_proxy_cache_entries', { tier: 'memory' })).toBe(2);
    expect(sample(text, 'llm_proxy_cache_bytes', { tier: 'memory' })).toBeGreaterThan(0);
    expect(sample(text, 'llm_proxy_circuit_state', { backend: 'gpu', state: 'closed' })).toBe(1);
    expect(sample(text, 'llm_proxy_process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('passes `promtool check metrics`', () => {
    const check = promtoolCheck(text);
    expect(check.code, check.output).toBe(0);
  });

  it('a real Prometheus scrapes it and answers queries with the same figures', async () => {
    prometheus = await startPrometheus(new URL(px.url).host);
    const deadline = Date.now() + 30_000;
    let result: Awaited<ReturnType<PrometheusServer['query']>> = [];
    while (Date.now() < deadline) {
      result = await prometheus.query('sum by (cache) (llm_proxy_requests_total{backend="gpu",status="200"})');
      if (result.length >= 2) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const byCache = Object.fromEntries(result.map((r) => [r.metric.cache, Number(r.value[1])]));
    expect(byCache).toEqual({ miss: 2, hit: 1 });
    const up = await prometheus.query('up{job="llm-proxy"}');
    expect(up[0]?.value[1]).toBe('1');
  }, 60_000);
});
