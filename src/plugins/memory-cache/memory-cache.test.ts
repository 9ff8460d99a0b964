import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { anthropicTextEvents, openaiTextChunks, openaiToolCallChunks, startFakeUpstream } from '../../../tests/support/fake-upstream.js';
import { openaiBackend, parseSSE, postMessages, startProxy } from '../../../tests/support/proxy.js';
import { ask, cachedProxySuite, cachePlugins, cacheReport, post, sleep } from '../../../tests/support/cache.js';

const TOOL: Anthropic.Tool = { name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } };

describe('the in-process cache (L1)', () => {
  const suite = cachedProxySuite((url) => ({
    backend: 'gpu',
    backends: {
      gpu: openaiBackend(url, { models: { '*haiku*': 'small-model' } }),
      other: openaiBackend(url),
      nocache: openaiBackend(url, { cache: { enabled: false } }),
      shortlived: openaiBackend(url, { cache: { ttlSeconds: 1 } }),
    },
    plugins: cachePlugins(),
  }));

  const answer = (text: string, usage = { prompt_tokens: 1000, completion_tokens: 100 }) => ({ kind: 'openai-stream' as const, chunks: openaiTextChunks(text, { usage }) });

  it('answers the second identical request from memory, with hit and age headers, without calling upstream', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(answer('first answer'));
    const first = await post(px.url, ask('l1 basic'));
    expect(first.cache).toBe('miss');
    expect(first.age).toBeNull();
    const second = await post(px.url, ask('l1 basic'));
    expect(second.status).toBe(200);
    expect(second.cache).toBe('hit');
    expect(second.tier).toBe('memory');
    expect(second.age).toBe('0');
    expect(second.json().content).toEqual([{ type: 'text', text: 'first answer' }]);
    expect(second.json().id).not.toBe(first.json().id);
    expect(upstream.chatRequests).toHaveLength(1);
    expect(px.logs.some((line) => line.includes('"cache":"hit"'))).toBe(true);
  });

  it('reports the age of an answer in seconds', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(answer('aged'));
    await post(px.url, ask('l1 age'));
    await sleep(1100);
    const again = await post(px.url, ask('l1 age'));
    expect(again.cache).toBe('hit');
    expect(Number(again.age)).toBeGreaterThanOrEqual(1);
  });

  it('still hits when only cache_control and metadata differ', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(answer('same answer'));
    const marked = ask('', {
      system: [{ type: 'text', text: 'be brief', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'l1 cache_control', cache_control: { type: 'ephemeral' } }] }],
      tools: [{ ...TOOL, cache_control: { type: 'ephemeral' } }],
      metadata: { user_id: 'session-a' },
    });
    await post(px.url, marked);
    const plain = ask('', {
      system: [{ type: 'text', text: 'be brief' }],
      messages: [{ role: 'user', content: [{ type: 'text', text: 'l1 cache_control' }] }],
      tools: [TOOL],
      metadata: { user_id: 'session-b' },
    });
    expect((await post(px.url, plain)).cache).toBe('hit');
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('misses when the upstream model, backend, system, tools or sampling differ; hits when two Claude models map to one upstream model', async () => {
    const { upstream, px } = suite;
    upstream.setFallback(answer('fresh'));
    const base = ask('l1 determinants', { system: 'sys A', tools: [TOOL] });
    expect((await post(px.url, base)).cache).toBe('miss');
    expect((await post(px.url, { ...base, model: 'claude-opus-4-1' })).cache).toBe('hit');
    const variants: object[] = [
      { ...base, model: 'claude-haiku-4-5' },
      { ...base, model: 'other/qwen3-coder:30b' },
      { ...base, system: 'sys B' },
      { ...base, tools: [{ ...TOOL, name: 'Shell' }] },
      { ...base, temperature: 0.2 },
      { ...base, max_tokens: 201 },
    ];
    for (const variant of variants) expect((await post(px.url, variant)).cache).toBe('miss');
    expect(upstream.chatRequests).toHaveLength(1 + variants.length);
    const models = upstream.chatRequests.map((r) => (r.body as { model: string }).model);
    expect(models).toContain('small-model');
  });

  it('serves a cached JSON answer to a streaming request and a cached stream to messages.create, usage unchanged', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(answer('json first', { prompt_tokens: 321, completion_tokens: 45 }));
    const created = await px.client.messages.create(ask('l1 json to stream'));
    const streamed = await px.client.messages.stream(ask('l1 json to stream')).finalMessage();
    expect(streamed.content).toEqual(created.content);
    expect(streamed.usage).toMatchObject({ input_tokens: 321, output_tokens: 45 });

    upstream.enqueue({ kind: 'openai-stream', chunks: openaiToolCallChunks([{ name: 'Bash', args: { command: 'ls -la' } }], { usage: { prompt_tokens: 77, completion_tokens: 9 } }) });
    const first = await px.client.messages.stream(ask('l1 stream to json', { tools: [TOOL] })).finalMessage();
    const again = await px.client.messages.create(ask('l1 stream to json', { tools: [TOOL] }));
    expect(again.stop_reason).toBe('tool_use');
    expect(again.content).toEqual(first.content);
    expect(again.usage).toEqual(first.usage);
    expect(again.usage).toMatchObject({ input_tokens: 77, output_tokens: 9 });
    expect(upstream.chatRequests).toHaveLength(2);
  });

  it('replays a valid SSE sequence on a streamed hit', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(answer('sse replay'));
    await post(px.url, ask('l1 sse'));
    const res = await post(px.url, { ...ask('l1 sse'), stream: true });
    expect(res.cache).toBe('hit');
    const events = parseSSE(res.text).map((e) => e.event);
    expect(events[0]).toBe('message_start');
    expect(events.slice(-2)).toEqual(['message_delta', 'message_stop']);
  });

  it('sends every hit of one answer as the same bytes but for its id, as JSON and as SSE', async () => {
    const { upstream, px } = suite;
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiToolCallChunks([{ name: 'Bash', args: { command: 'ls — “all”' } }], { usage: { prompt_tokens: 50, completion_tokens: 7 } }) });
    const miss = await postMessages(px.url, ask('l1 same bytes', { tools: [TOOL] }));
    const hits = [await postMessages(px.url, ask('l1 same bytes', { tools: [TOOL] })), await postMessages(px.url, ask('l1 same bytes', { tools: [TOOL] }))];
    expect(hits.map((hit) => hit.headers.get('content-type'))).toEqual(['application/json; charset=utf-8', 'application/json; charset=utf-8']);
    const [a, b] = hits.map((hit) => JSON.parse(hit.text) as Anthropic.Message);
    expect(a!.id).not.toBe(b!.id);
    expect({ ...a, id: '' }).toEqual({ ...(JSON.parse(miss.text) as Anthropic.Message), id: '' });
    expect(hits[1]!.text).toBe(hits[0]!.text.replace(a!.id, b!.id));

    const streamed = [await postMessages(px.url, { ...ask('l1 same bytes', { tools: [TOOL] }), stream: true }), await postMessages(px.url, { ...ask('l1 same bytes', { tools: [TOOL] }), stream: true })];
    const ids = streamed.map((res) => (parseSSE(res.text)[0]!.data as { message: { id: string } }).message.id);
    expect(ids[0]).not.toBe(ids[1]);
    expect(streamed[1]!.text).toBe(streamed[0]!.text.replace(ids[0]!, ids[1]!));
    expect(parseSSE(streamed[0]!.text).map((event) => event.event)).toEqual(['message_start', 'ping', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('does not store a stream cut before its end', async () => {
    const { upstream, px } = suite;
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('cut short answer', { pieces: 4 }), cutAfter: 3 });
    const cut = await post(px.url, { ...ask('l1 cut'), stream: true });
    expect(cut.text).toContain('event: error');
    upstream.enqueue(answer('whole'));
    const retry = await post(px.url, ask('l1 cut'));
    expect(retry.cache).toBe('miss');
    expect(retry.json().content).toEqual([{ type: 'text', text: 'whole' }]);
    expect(upstream.chatRequests).toHaveLength(2);
  });

  it('does not store a failed upstream call', async () => {
    const { upstream, px } = suite;
    upstream.enqueue({ kind: 'error', status: 500, message: 'boom' });
    expect((await post(px.url, ask('l1 failed'))).status).toBe(502);
    upstream.enqueue(answer('ok now'));
    expect((await post(px.url, ask('l1 failed'))).cache).toBe('miss');
    expect((await post(px.url, ask('l1 failed'))).cache).toBe('hit');
  });

  it('honours no-cache, refresh, no-store and Cache-Control', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(answer('v1'), answer('v2'), answer('v3'), answer('v4'));
    await post(px.url, ask('l1 control'));
    const refreshed = await post(px.url, ask('l1 control'), { 'x-llm-proxy-cache': 'no-cache' });
    expect(refreshed.cache).toBe('bypass');
    expect(refreshed.json().content).toEqual([{ type: 'text', text: 'v2' }]);
    // no-cache still stores: the refreshed answer is what later requests get.
    expect((await post(px.url, ask('l1 control'))).json().content).toEqual([{ type: 'text', text: 'v2' }]);
    expect((await post(px.url, ask('l1 control'), { 'x-llm-proxy-cache': 'refresh' })).json().content).toEqual([{ type: 'text', text: 'v3' }]);
    expect((await post(px.url, ask('l1 control'), { 'cache-control': 'no-cache' })).json().content).toEqual([{ type: 'text', text: 'v4' }]);
    // no-store may read the cache.
    const readOnly = await post(px.url, ask('l1 control'), { 'x-llm-proxy-cache': 'no-store' });
    expect(readOnly.cache).toBe('hit');
    expect(upstream.chatRequests).toHaveLength(4);

    upstream.enqueue(answer('not kept'), answer('kept'), answer('fresh, not kept'));
    expect((await post(px.url, ask('l1 no-store'), { 'cache-control': 'no-store' })).cache).toBe('miss');
    expect((await post(px.url, ask('l1 no-store'))).json().content).toEqual([{ type: 'text', text: 'kept' }]);
    expect((await post(px.url, ask('l1 no-store'), { 'cache-control': 'no-cache, no-store' })).cache).toBe('bypass');
  });

  it('bypasses a backend with cache.enabled false and expires answers after its cache.ttlSeconds', async () => {
    const { upstream, px } = suite;
    upstream.setFallback(answer('per backend'));
    const off = ask('l1 backend settings', { model: 'nocache/qwen3-coder:30b' });
    expect((await post(px.url, off)).cache).toBe('bypass');
    expect((await post(px.url, off)).cache).toBe('bypass');
    const short = ask('l1 backend settings', { model: 'shortlived/qwen3-coder:30b' });
    expect((await post(px.url, short)).cache).toBe('miss');
    expect((await post(px.url, short)).cache).toBe('hit');
    await sleep(1200);
    expect((await post(px.url, short)).cache).toBe('miss');
    expect(upstream.chatRequests).toHaveLength(4);
  });

  it('reports hits per tier, tokens served and dollars saved at the price of the model asked for', async () => {
    const { upstream, px } = suite;
    const before = await cacheReport(px.url);
    upstream.enqueue(answer('priced', { prompt_tokens: 2000, completion_tokens: 500 }));
    await post(px.url, ask('l1 savings', { model: 'claude-sonnet-4-5' }));
    await post(px.url, ask('l1 savings', { model: 'claude-sonnet-4-5' }));
    await post(px.url, ask('l1 savings', { model: 'claude-sonnet-4-5' }));
    await sleep(50);
    const after = await cacheReport(px.url);
    expect((after.hits.memory ?? 0) - (before.hits.memory ?? 0)).toBe(2);
    expect(after.tokensServed.input - before.tokensServed.input).toBe(4000);
    expect(after.tokensServed.output - before.tokensServed.output).toBe(1000);
    // Sonnet: $3 in, $15 out per million tokens; two hits of 2000 in + 500 out.
    expect(after.savedUsd - before.savedUsd).toBeCloseTo(2 * (2000 * 3 + 500 * 15) / 1e6, 6);
    expect(after.misses).toBeGreaterThan(before.misses);
  });
});

describe('cache keys per client key', () => {
  const suite = cachedProxySuite((url) => ({ backend: 'gpu', backends: { gpu: openaiBackend(url) }, auth: { keys: ['tenant-key-one', 'tenant-key-two'] }, plugins: cachePlugins() }));

  it('never shares an answer between tenants', async () => {
    const { upstream, px } = suite;
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('tenant answer') });
    const one = { 'x-api-key': 'tenant-key-one' };
    const two = { 'x-api-key': 'tenant-key-two' };
    expect((await post(px.url, ask('tenant'), one)).cache).toBe('miss');
    expect((await post(px.url, ask('tenant'), two)).cache).toBe('miss');
    expect((await post(px.url, ask('tenant'), one)).cache).toBe('hit');
    expect((await post(px.url, ask('tenant'), { 'x-api-key': '', authorization: 'Bearer tenant-key-one' })).cache).toBe('hit');
    expect(upstream.chatRequests).toHaveLength(2);
  });
});

describe('an upstream stream that reports an error', () => {
  it('is not stored', async () => {
    const upstream = await startFakeUpstream({ format: 'anthropic' });
    const px = await startProxy({ backend: 'claude', backends: { claude: { type: 'anthropic', url: upstream.url } }, plugins: cachePlugins() });
    try {
      const events = anthropicTextEvents('partial answer', { pieces: 3 });
      upstream.enqueue({ kind: 'anthropic-stream', events: [...events.slice(0, 4), { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }] });
      const failed = await post(px.url, { ...ask('errored'), stream: true });
      expect(failed.text).toContain('event: error');
      upstream.enqueue({ kind: 'anthropic-stream', events: anthropicTextEvents('complete answer') });
      expect((await post(px.url, { ...ask('errored'), stream: true })).cache).toBe('miss');
      expect((await post(px.url, ask('errored'))).cache).toBe('hit');
      expect(upstream.chatRequests).toHaveLength(2);
    } finally {
      await px.close();
      await upstream.close();
    }
  });
});

describe('cache settings', () => {
  it('fail start-up with the field named', async () => {
    await expect(
      startProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: 'http://127.0.0.1:9/v1', cache: { ttlSeconds: -1 } } }, plugins: cachePlugins() }),
    ).rejects.toThrow(/backends\.gpu\.cache\.ttlSeconds/);
    expect(() => cachePlugins([], { memory: { maxBytes: 'lots' } })).toThrow(/plugins\.memory-cache\.maxBytes/);
  });
});

describe('the memory tier bounds', () => {
  it('keeps at most maxBytes of answers, evicting the least recently used', async () => {
    const upstream = await startFakeUpstream({ format: 'openai' });
    const px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: cachePlugins([], { memory: { maxBytes: '8kb', maxEntryBytes: '4kb' } }) });
    try {
      upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('y'.repeat(1500)) });
      for (let i = 0; i < 10; i++) await post(px.url, ask(`bounded ${i}`));
      upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('z'.repeat(5000)) });
      await post(px.url, ask('bounded too large'));
      const { memory } = (await cacheReport(px.url)).tiers;
      expect(memory?.bytes).toBeLessThanOrEqual(8 * 1024);
      expect(memory?.entries).toBeLessThan(10);
      expect((await post(px.url, ask('bounded 9'))).cache).toBe('hit');
      expect((await post(px.url, ask('bounded 0'))).cache).toBe('miss');
      expect((await post(px.url, ask('bounded too large'))).cache).toBe('miss');
    } finally {
      await px.close();
      await upstream.close();
    }
  });
});
