// The one access log line per request (issue 10 item 3): request id, backend, endpoint, model,
// cache status, status, duration, time to first token, tokens and, on a failure, the error code.
// Real loopback upstreams behind a backend with two endpoints, so the line names one.

import { afterEach, describe, expect, it } from 'vitest';
import { openaiText, openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { postMessages, startProxy, type TestProxy } from './support/proxy.js';

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

interface AccessLine {
  level: string;
  time: string;
  msg: string;
  request: string;
  status: number;
  backend: string;
  endpoint: string;
  model: string;
  stream: boolean;
  cache: string;
  tier?: string;
  ms: number;
  ttft?: number;
  in?: number;
  out?: number;
  error?: string;
}

async function setUp(): Promise<{ px: TestProxy; fakes: FakeUpstream[] }> {
  const fakes = await Promise.all([startFakeUpstream({ format: 'openai' }), startFakeUpstream({ format: 'openai' })]);
  opened.push(...fakes);
  const px = await startProxy({
    backend: 'gpu',
    backends: { gpu: { type: 'openai', endpoints: fakes.map((fake) => `${fake.url}/v1`), model: 'qwen3-coder:30b' } },
  });
  opened.push(px);
  return { px, fakes };
}

/** The access line of the request with this id (the child logger binds `request`). */
function accessLine(px: TestProxy, requestId: string | null): AccessLine {
  expect(requestId).toBeTruthy();
  const lines = px.logs.map((line) => JSON.parse(line) as AccessLine).filter((line) => line.request === requestId && line.msg.startsWith('messages'));
  expect(lines, `one access line for ${requestId}`).toHaveLength(1);
  return lines[0]!;
}

const question = (text: string, stream: boolean) => ({ model: 'claude-sonnet-4-5', max_tokens: 50, stream, messages: [{ role: 'user', content: text }] });

describe('the access log line', () => {
  it('of a streamed answer: request id, backend, endpoint, model, cache, status, duration, ttft and tokens', async () => {
    const { px, fakes } = await setUp();
    for (const fake of fakes) fake.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('streamed hello', { usage: { prompt_tokens: 31, completion_tokens: 7 } }) });
    const res = await postMessages(px.url, question('stream please', true));
    expect(res.status).toBe(200);
    const line = accessLine(px, res.headers.get('request-id'));
    expect(line).toMatchObject({
      level: 'info',
      msg: 'messages',
      status: 200,
      backend: 'gpu',
      endpoint: res.headers.get('x-llm-proxy-endpoint'),
      model: 'qwen3-coder:30b',
      stream: true,
      cache: 'miss',
      in: 31,
      out: 7,
    });
    expect(fakes.map((fake) => `${fake.url}/v1`)).toContain(line.endpoint);
    expect(line.ms).toBeGreaterThanOrEqual(0);
    expect(line.ttft).toBeGreaterThanOrEqual(0);
    expect(line.ttft).toBeLessThanOrEqual(line.ms);
    expect(new Date(line.time).toISOString()).toBe(line.time);
  });

  it('of a cache hit says so, with the tier', async () => {
    const { px, fakes } = await setUp();
    for (const fake of fakes) fake.setFallback({ kind: 'json', body: openaiText('cached hello', { usage: { prompt_tokens: 20, completion_tokens: 3 } }) });
    const first = await postMessages(px.url, question('the same question', false));
    const second = await postMessages(px.url, question('the same question', false));
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(accessLine(px, first.headers.get('request-id'))).toMatchObject({ cache: 'miss', status: 200, in: 20, out: 3 });
    expect(accessLine(px, second.headers.get('request-id'))).toMatchObject({ cache: 'hit', tier: 'memory', status: 200, backend: 'gpu', model: 'qwen3-coder:30b' });
  });

  it('of a failure carries the status the client got and the error code, at warn', async () => {
    const { px, fakes } = await setUp();
    for (const fake of fakes) fake.setFallback({ kind: 'json', status: 401, body: { error: { message: 'bad key', type: 'invalid_request_error' } } });
    const res = await postMessages(px.url, question('fail please', false));
    expect(res.status).toBeGreaterThanOrEqual(400);
    const line = accessLine(px, res.headers.get('request-id'));
    expect(line).toMatchObject({ level: 'warn', status: res.status, backend: 'gpu', model: 'qwen3-coder:30b', cache: 'miss' });
    // Both endpoints failed: no one endpoint served it.
    expect(fakes.every((fake) => fake.chatRequests.length === 1)).toBe(true);
    expect(line.msg).toMatch(/^messages failed: /);
    expect(line.error).toBe('upstream_401');
    expect(line.ms).toBeGreaterThanOrEqual(0);
  });
});
