import { afterEach, describe, expect, it } from 'vitest';
import {
  anthropicText,
  anthropicTextEvents,
  anthropicToolUseEvents,
  openaiText,
  openaiTextChunks,
  openaiToolCall,
  openaiToolCallChunks,
  startFakeUpstream,
  type FakeUpstream,
  type OpenAIChatChunk,
  type UpstreamFormat,
} from './support/fake-upstream.js';

let fake: FakeUpstream | undefined;

async function start(format: UpstreamFormat = 'openai'): Promise<FakeUpstream> {
  fake = await startFakeUpstream({ format });
  return fake;
}

afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const post = (url: string, body: unknown, init: RequestInit = {}): Promise<Response> =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...init });

/** Reads a body chunk by chunk; `error` is set when the stream failed (e.g. socket destroyed). */
async function readAll(res: Response): Promise<{ bytes: Buffer; reads: Buffer[]; error: unknown }> {
  const reader = res.body!.getReader();
  const reads: Buffer[] = [];
  let error: unknown;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      reads.push(Buffer.from(value));
    }
  } catch (err) {
    error = err;
  }
  return { bytes: Buffer.concat(reads), reads, error };
}

const sse = (chunks: unknown[]): string => chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('');

describe('fake upstream: OpenAI format', () => {
  it('lists models in the OpenAI shape and follows setModels', async () => {
    const up = await start('openai');
    up.setModels(['m-one', 'm-two']);
    const res = await fetch(`${up.url}/v1/models`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: Array<Record<string, unknown>> };
    expect(body.object).toBe('list');
    expect(body.data.map((m) => m.id)).toEqual(['m-one', 'm-two']);
    expect(body.data[0]).toMatchObject({ object: 'model', owned_by: expect.any(String), created: expect.any(Number) });
    expect(up.chatRequests).toHaveLength(0);
    expect(up.requests[0]).toMatchObject({ method: 'GET', path: '/v1/models', endpoint: 'models' });
  });

  it('answers a json reply and records method, path with query, headers and parsed body', async () => {
    const up = await start('openai');
    const completion = openaiText('hello there', { model: 'qwen3-coder:30b' });
    up.enqueue({ kind: 'json', body: completion, headers: { 'x-extra': 'yes' } });
    const res = await post(`${up.url}/v1/chat/completions?trace=1`, { model: 'qwen3-coder:30b', messages: [] }, {
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-abc' },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-extra')).toBe('yes');
    expect(await res.json()).toEqual(completion);
    expect(completion).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'hello there' }, finish_reason: 'stop' }] });
    expect(completion.id).toMatch(/^chatcmpl-/);

    const [req] = up.requests;
    expect(req).toMatchObject({ method: 'POST', path: '/v1/chat/completions?trace=1', endpoint: 'chat', aborted: false });
    expect(req?.headers.authorization).toBe('Bearer sk-abc');
    expect(req?.body).toEqual({ model: 'qwen3-coder:30b', messages: [] });
    expect(req?.receivedAt).toBeGreaterThan(0);
  });

  it('keeps a non-JSON body as raw text', async () => {
    const up = await start('openai');
    up.enqueue({ kind: 'json', body: {} });
    await (await fetch(`${up.url}/v1/chat/completions`, { method: 'POST', body: 'not json {' })).text();
    expect(up.requests[0]?.body).toBe('not json {');
  });

  it('accepts any path prefix ending in /chat/completions and consumes replies in order', async () => {
    const up = await start('openai');
    up.enqueue({ kind: 'json', body: { n: 1 } }, { kind: 'json', body: { n: 2 } });
    expect(up.pending).toBe(2);
    const a = await (await post(`${up.url}/v2/abc/openai/v1/chat/completions`, {})).json();
    const b = await (await post(`${up.url}/chat/completions`, {})).json();
    expect([a, b]).toEqual([{ n: 1 }, { n: 2 }]);
    expect(up.pending).toBe(0);
  });

  it('answers 500 "fake upstream: no scripted reply" when the queue is empty', async () => {
    const up = await start('openai');
    const res = await post(`${up.url}/v1/chat/completions`, {});
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).toContain('fake upstream: no scripted reply');
    expect(JSON.parse(text)).toMatchObject({ error: { message: 'fake upstream: no scripted reply' } });
  });

  it('streams chunks byte-exactly and ends with data: [DONE]', async () => {
    const up = await start('openai');
    const chunks = openaiTextChunks('Hello, world! ünïcödé 🎉', { pieces: 4 });
    up.enqueue({ kind: 'openai-stream', chunks: [chunks[0]!, { delayMs: 20 }, ...chunks.slice(1)] });
    const res = await post(`${up.url}/v1/chat/completions`, { stream: true });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const { bytes, error } = await readAll(res);
    expect(error).toBeUndefined();
    expect(bytes.toString('utf8')).toBe(`${sse(chunks)}data: [DONE]\n\n`);
  });

  it('omits [DONE] when done is false', async () => {
    const up = await start('openai');
    const chunks = openaiTextChunks('hi');
    up.enqueue({ kind: 'openai-stream', chunks, done: false });
    const text = await (await post(`${up.url}/v1/chat/completions`, {})).text();
    expect(text).toBe(sse(chunks));
  });

  it('cutAfter destroys the socket after N chunks, without [DONE]', async () => {
    const up = await start('openai');
    const chunks = openaiTextChunks('one two three four', { pieces: 4 });
    up.enqueue({ kind: 'openai-stream', chunks, cutAfter: 2 });
    const res = await post(`${up.url}/v1/chat/completions`, {});
    expect(res.status).toBe(200);
    const { bytes, error } = await readAll(res);
    expect(error).toBeInstanceOf(Error);
    expect(bytes.toString('utf8')).toBe(sse(chunks.slice(0, 2)));
    await expect.poll(() => up.connections).toBe(0);
    expect(up.requests[0]?.aborted).toBe(true);
  });

  it('builds realistic text chunks: role first, finish_reason stop, then a usage-only chunk', () => {
    const chunks = openaiTextChunks('abcdef', { pieces: 3, usage: { prompt_tokens: 5, completion_tokens: 2 }, reasoning: 'think', model: 'gpt-oss-120b' });
    const first = chunks[0]!;
    expect(first).toMatchObject({ object: 'chat.completion.chunk', model: 'gpt-oss-120b', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    expect(first.id).toMatch(/^chatcmpl-/);
    expect(typeof first.system_fingerprint).toBe('string');
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(content).toBe('abcdef');
    expect(chunks.map((c) => c.choices[0]?.delta.reasoning_content ?? '').join('')).toBe('think');
    const last = chunks[chunks.length - 1]!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
    expect(chunks[chunks.length - 2]?.choices[0]?.finish_reason).toBe('stop');
  });

  it('builds tool-call chunks keyed by index with id and name on the first fragment', () => {
    const calls = [
      { name: 'Bash', args: { command: 'echo hello-from-tool' }, id: 'call_fixed' },
      { name: 'Read', args: { file_path: '/tmp/x' } },
    ];
    const chunks: OpenAIChatChunk[] = openaiToolCallChunks(calls, { fragments: 4 });
    const byIndex = new Map<number, { id?: string; name?: string; args: string; fragments: number }>();
    for (const c of chunks) {
      for (const tc of c.choices[0]?.delta.tool_calls ?? []) {
        const acc = byIndex.get(tc.index) ?? { args: '', fragments: 0 };
        if (tc.id !== undefined) {
          expect(acc.id).toBeUndefined();
          acc.id = tc.id;
          acc.name = tc.function?.name;
        } else {
          expect(tc.function?.name).toBeUndefined();
        }
        acc.args += tc.function?.arguments ?? '';
        acc.fragments++;
        byIndex.set(tc.index, acc);
      }
    }
    expect(byIndex.get(0)).toMatchObject({ id: 'call_fixed', name: 'Bash' });
    expect(JSON.parse(byIndex.get(0)!.args)).toEqual(calls[0]!.args);
    expect(byIndex.get(1)?.id).toMatch(/^call_/);
    expect(JSON.parse(byIndex.get(1)!.args)).toEqual(calls[1]!.args);
    expect(byIndex.get(1)!.fragments).toBeGreaterThan(2);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks[chunks.length - 2]?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(chunks[chunks.length - 1]?.choices).toEqual([]);

    const whole = openaiToolCall('Bash', { command: 'ls' });
    expect(whole.choices[0]).toMatchObject({ finish_reason: 'tool_calls', message: { content: null, tool_calls: [{ type: 'function', function: { name: 'Bash', arguments: '{"command":"ls"}' } }] } });
  });

  it('answers OpenAI-shaped errors', async () => {
    const up = await start('openai');
    up.enqueue({ kind: 'error', status: 404 });
    const res = await post(`${up.url}/v1/chat/completions`, { model: 'llama3:8b' });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { message: 'The model `llama3:8b` does not exist or you do not have access to it.', type: 'invalid_request_error', code: 'model_not_found', param: null },
    });
  });

  it('hang: the client can abort, and waitForClientClose sees its socket close', async () => {
    const up = await start('openai');
    up.enqueue({ kind: 'hang' });
    const controller = new AbortController();
    const pending = post(`${up.url}/v1/chat/completions`, {}, { signal: controller.signal }).catch((err: unknown) => err);
    await up.waitForRequests(1, { endpoint: 'chat' });
    const closed = up.waitForClientClose(5_000);
    controller.abort();
    await closed;
    expect(await pending).toBeInstanceOf(Error);
    expect(up.requests[0]?.aborted).toBe(true);
  });

  it('waitForClientClose called before the request arrives waits for the next one', async () => {
    const up = await start('openai');
    up.enqueue({ kind: 'hang' });
    const closed = up.waitForClientClose(5_000);
    const controller = new AbortController();
    const pending = post(`${up.url}/v1/chat/completions`, {}, { signal: controller.signal }).catch((err: unknown) => err);
    await up.waitForRequests(1);
    controller.abort();
    await closed;
    await pending;
  });

  it('close() ends hanging requests instead of hanging the test', async () => {
    const up = await start('openai');
    up.enqueue({ kind: 'hang' });
    const pending = post(`${up.url}/v1/chat/completions`, {}).then(
      () => 'answered',
      () => 'failed',
    );
    await up.waitForRequests(1);
    await up.close();
    expect(await pending).toBe('failed');
    expect(up.connections).toBe(0);
  });

  it('delay: sends nothing at all before ms have passed', async () => {
    const up = await start('openai');
    up.enqueue({ kind: 'delay', ms: 300, then: { kind: 'json', body: { ok: true } } });
    const t0 = Date.now();
    const res = await post(`${up.url}/v1/chat/completions`, {});
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(await res.json()).toEqual({ ok: true });
  });

  it('raw: exact bytes, one write per part, a UTF-8 character split across writes', async () => {
    const up = await start('openai');
    const euro = Buffer.from('€', 'utf8'); // e2 82 ac
    const parts = [Buffer.from('data: {"c":"'), euro.subarray(0, 1), { delayMs: 40 }, euro.subarray(1), { delayMs: 40 }, '"}\n\n'];
    up.enqueue({ kind: 'raw', parts });
    const res = await post(`${up.url}/v1/chat/completions`, {});
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const { bytes, reads, error } = await readAll(res);
    expect(error).toBeUndefined();
    expect(bytes.toString('utf8')).toBe('data: {"c":"€"}\n\n');
    expect(reads.length).toBeGreaterThanOrEqual(3);
    expect(reads[0]?.[reads[0].length - 1]).toBe(0xe2);
  });

  it('raw with end: false destroys the socket after the parts', async () => {
    const up = await start('openai');
    up.enqueue({ kind: 'raw', status: 200, headers: { 'Content-Type': 'text/plain' }, parts: ['partial'], end: false });
    const res = await post(`${up.url}/v1/chat/completions`, {});
    expect(res.headers.get('content-type')).toBe('text/plain');
    const { bytes, error } = await readAll(res);
    expect(bytes.toString()).toBe('partial');
    expect(error).toBeInstanceOf(Error);
  });

  it('answers HEAD / with 200 and records it', async () => {
    const up = await start('openai');
    const res = await fetch(`${up.url}/`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(up.requests[0]).toMatchObject({ method: 'HEAD', path: '/', endpoint: 'other', body: undefined });
  });

  it('serves Ollama /api/tags from the model list', async () => {
    const up = await start('openai');
    up.setModels(['qwen3-coder:30b']);
    const body = (await (await fetch(`${up.url}/api/tags`)).json()) as { models: Array<{ name: string }> };
    expect(body.models.map((m) => m.name)).toEqual(['qwen3-coder:30b']);
  });
});

describe('fake upstream: Cerebras format', () => {
  const rateLimitHeaders = [
    'x-ratelimit-limit-requests-day',
    'x-ratelimit-remaining-requests-day',
    'x-ratelimit-limit-tokens-minute',
    'x-ratelimit-remaining-tokens-minute',
    'x-ratelimit-reset-requests-day',
    'x-ratelimit-reset-tokens-minute',
  ];

  it('answers a flat error body with rate-limit headers', async () => {
    const up = await start('cerebras');
    up.enqueue({ kind: 'error', status: 429, rateLimit: { resetRequestsDay: 3600.5 } });
    const res = await post(`${up.url}/v1/chat/completions`, { model: 'qwen-3-coder-480b' });
    expect(res.status).toBe(429);
    expect(await res.json()).toEqual({
      message: 'Requests per day limit exceeded - too many requests sent.',
      type: 'too_many_requests_error',
      param: 'quota',
      code: 'request_quota_exceeded',
    });
    for (const name of rateLimitHeaders) expect(res.headers.get(name), name).not.toBeNull();
    expect(res.headers.get('x-ratelimit-remaining-requests-day')).toBe('0');
    expect(res.headers.get('x-ratelimit-reset-requests-day')).toBe('3600.5');
    expect(Number.parseFloat(res.headers.get('x-ratelimit-reset-tokens-minute')!)).toBeGreaterThan(0);
  });

  it('names the requested model in 404 and says "Wrong API Key" on 401', async () => {
    const up = await start('cerebras');
    up.enqueue({ kind: 'error', status: 404 }, { kind: 'error', status: 401 });
    const notFound = await (await post(`${up.url}/v1/chat/completions`, { model: 'qwen-3-coder-480b' })).json();
    expect(notFound).toEqual({
      message: 'Model qwen-3-coder-480b does not exist or you do not have access to it.',
      type: 'not_found_error',
      param: 'model',
      code: 'model_not_found',
    });
    expect(await (await post(`${up.url}/v1/chat/completions`, {})).json()).toMatchObject({ message: 'Wrong API Key' });
  });

  it('puts configurable rate-limit headers on streams', async () => {
    const up = await start('cerebras');
    up.setRateLimit({ limitTokensMinute: 1000 });
    up.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('ok'), rateLimit: { remainingTokensMinute: 42, resetTokensMinute: 7 } });
    const res = await post(`${up.url}/v1/chat/completions`, {});
    await res.text();
    expect(res.headers.get('x-ratelimit-limit-tokens-minute')).toBe('1000');
    expect(res.headers.get('x-ratelimit-remaining-tokens-minute')).toBe('42');
    expect(res.headers.get('x-ratelimit-reset-tokens-minute')).toBe('7.0');
  });
});

describe('fake upstream: Anthropic format', () => {
  it('streams events byte-exactly as event:/data: pairs', async () => {
    const up = await start('anthropic');
    const events = anthropicTextEvents('pong');
    up.enqueue({ kind: 'anthropic-stream', events });
    const res = await post(`${up.url}/v1/messages?beta=true`, { model: 'claude-opus-4-8', stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const text = await res.text();
    expect(text).toBe(events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
    expect(events.map((e) => e.type)).toEqual([
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ]);
    expect(up.requests[0]).toMatchObject({ path: '/v1/messages?beta=true', endpoint: 'chat' });
  });

  it('cutAfter cuts an Anthropic stream', async () => {
    const up = await start('anthropic');
    const events = anthropicToolUseEvents('Bash', { command: 'echo hi' });
    up.enqueue({ kind: 'anthropic-stream', events, cutAfter: 3 });
    const { bytes, error } = await readAll(await post(`${up.url}/v1/messages`, {}));
    expect(error).toBeInstanceOf(Error);
    expect(bytes.toString()).toBe(events.slice(0, 3).map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
  });

  it('answers json Messages, count_tokens and the Anthropic model list', async () => {
    const up = await start('anthropic');
    up.setModels(['claude-haiku-4-5-20251001', 'claude-sonnet-4-5-20250929']);
    const message = anthropicText('hello');
    up.enqueue({ kind: 'json', body: message });
    expect(await (await post(`${up.url}/v1/messages`, {})).json()).toEqual(message);
    expect(message).toMatchObject({ type: 'message', role: 'assistant', stop_reason: 'end_turn', content: [{ type: 'text', text: 'hello' }] });

    const count = (await (await post(`${up.url}/v1/messages/count_tokens?beta=true`, { messages: [{ role: 'user', content: 'x'.repeat(400) }] })).json()) as { input_tokens: number };
    expect(count.input_tokens).toBeGreaterThan(50);
    up.enqueueCountTokens({ kind: 'json', body: { input_tokens: 7 } });
    expect(await (await post(`${up.url}/v1/messages/count_tokens`, {})).json()).toEqual({ input_tokens: 7 });

    const list = await (await fetch(`${up.url}/v1/models`)).json();
    expect(list).toEqual({
      data: [
        { type: 'model', id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: expect.any(String) },
        { type: 'model', id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: expect.any(String) },
      ],
      has_more: false,
      first_id: 'claude-haiku-4-5-20251001',
      last_id: 'claude-sonnet-4-5-20250929',
    });
    expect(up.chatRequests).toHaveLength(1);
  });

  it('answers Anthropic-shaped errors', async () => {
    const up = await start('anthropic');
    up.enqueue({ kind: 'error', status: 529 }, { kind: 'error', status: 401, body: { custom: true } });
    const res = await post(`${up.url}/v1/messages`, {});
    expect(res.status).toBe(529);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' }, request_id: expect.stringMatching(/^req_/) });
    expect(await (await post(`${up.url}/v1/messages`, {})).json()).toEqual({ custom: true });
  });

  it('answers unknown paths with 404 in the format', async () => {
    const up = await start('anthropic');
    const res = await post(`${up.url}/v1/chat/completions`, {});
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });
});
