import type Anthropic from '@anthropic-ai/sdk';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { semanticCache } from './index.js';
import { ask, cachePlugins, cacheReport, health, post, sleep, slowestMiss, timedPosts, until } from '../../tests/support/cache.js';
import { startFakeEmbeddings, type FakeEmbeddings } from '../../tests/support/fake-embeddings.js';
import { openaiToolCallChunks, startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import { openaiBackend, startProxy, type TestProxy } from '../../tests/support/proxy.js';
import { redisPresent, redisRequired, startRedis, type RedisServer } from '../../tests/support/redis.js';
import { answer, create, openaiEmbedder, semanticProxy, semanticReport, storedSemantic, stream } from '../../tests/support/semantic.js';

const TOOL: Anthropic.Tool = { name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object', properties: { command: { type: 'string' } } } };
const PNG = 'iVBORw0KGoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

describe.skipIf(!redisPresent && !redisRequired)('the semantic cache', () => {
  let redis: RedisServer;
  let embeddings: FakeEmbeddings;
  let upstream: FakeUpstream;
  let px: TestProxy;
  const closing: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    [redis, embeddings, upstream] = await Promise.all([startRedis(), startFakeEmbeddings(), startFakeUpstream()]);
    px = await semanticProxy(upstream, { url: redis.url, embedder: openaiEmbedder(embeddings.url) });
  });
  afterAll(async () => {
    await px?.close();
    for (const close of closing.reverse()) await close();
    await Promise.all([upstream?.close(), embeddings?.close(), redis?.stop()]);
  });
  beforeEach(() => {
    upstream.reset();
    upstream.setFallback(undefined);
    embeddings.setMode('up');
  });

  /** A proxy of its own (closed after the suite). */
  async function ownProxy(...args: Parameters<typeof semanticProxy>): Promise<TestProxy> {
    const own = await semanticProxy(...args);
    closing.push(() => own.close());
    return own;
  }

  it('answers a paraphrase as JSON and as a stream with the original usage, without copying it into the exact tiers', async () => {
    const before = await semanticReport(px.url);
    upstream.enqueue(answer('npm test runs them', { prompt_tokens: 321, completion_tokens: 45 }));
    const first = await create(px, ask('How do I run the tests?'));
    expect(first.cache).toBe('miss');
    await storedSemantic(px, before.stores + 1);

    const json = await create(px, ask('how can I run the tests'));
    expect(json).toMatchObject({ cache: 'semantic-hit', tier: 'semantic' });
    expect(json.message.content).toEqual([{ type: 'text', text: 'npm test runs them' }]);
    expect(json.message.usage).toEqual(first.message.usage);
    expect(json.message.usage).toMatchObject({ input_tokens: 321, output_tokens: 45 });

    const streamed = await stream(px, ask('How can I run the tests, please?'));
    expect(streamed).toMatchObject({ cache: 'semantic-hit', tier: 'semantic' });
    expect(streamed.message.content).toEqual(first.message.content);
    expect(streamed.message.usage).toEqual(first.message.usage);

    // Not backfilled: the paraphrase again is still a semantic hit, not an exact one from memory.
    expect((await post(px.url, ask('how can I run the tests'))).cache).toBe('semantic-hit');
    expect(upstream.chatRequests).toHaveLength(1);
    await sleep(50);
    const report = await cacheReport(px.url);
    expect(report.hits.semantic).toBeGreaterThanOrEqual(3);
    expect(report.tokensServed.input).toBeGreaterThanOrEqual(3 * 321);
    const section = (await health(px.url)).plugins['semantic-cache'];
    expect(section).toMatchObject({ status: 'ok', redis: 'up', embedderState: 'up', index: 'memory', threshold: 0.95 });
    expect(px.logs.some((line) => line.includes('run the tests'))).toBe(false);
  });

  it("embeds the question without Claude Code's <system-reminder> blocks, which stay part of the scope", async () => {
    upstream.setFallback(answer('reminded'));
    const turn = (date: string, question: string): Anthropic.MessageCreateParamsNonStreaming =>
      ask('', { messages: [{ role: 'user', content: [{ type: 'text', text: `<system-reminder>Today's date is ${date}.</system-reminder>` }, { type: 'text', text: question }] }] });
    const stores = (await semanticReport(px.url)).stores;
    expect((await post(px.url, turn('2025-11-03', 'Summarize the changes in this branch'))).cache).toBe('miss');
    await storedSemantic(px, stores + 1);
    expect((await post(px.url, turn('2025-11-03', 'summarize the changes in this branch please'))).cache).toBe('semantic-hit');
    expect((await post(px.url, turn('2025-11-04', 'summarize the changes in this branch please'))).cache).toBe('miss');
  });

  it('never answers from another scope, even for an identical last turn', async () => {
    upstream.setFallback(answer('scoped'));
    const question = 'Explain what the cache coordinator does';
    const base = ask(question, { system: 'system A', tools: [TOOL] });
    const stores = (await semanticReport(px.url)).stores;
    await post(px.url, base);
    await storedSemantic(px, stores + 1);
    expect((await post(px.url, { ...base, messages: [{ role: 'user', content: 'explain what the cache coordinator does' }] })).cache).toBe('semantic-hit');
    const variants: object[] = [
      { ...base, system: 'system B' },
      { ...base, tools: [{ ...TOOL, name: 'Shell' }] },
      { ...base, tools: undefined },
      { ...base, model: 'other/qwen3-coder:30b' },
      { ...base, model: 'claude-haiku-4-5' },
      { ...base, temperature: 0.3 },
      { ...base, messages: [{ role: 'user', content: 'hello' }, { role: 'assistant', content: 'Hi! What can I do?' }, { role: 'user', content: question }] },
    ];
    const looked = embeddings.requests.length;
    for (const variant of variants) expect((await post(px.url, variant)).cache).toBe('miss');
    expect(embeddings.requests.length - looked).toBe(variants.length);
    expect(upstream.chatRequests).toHaveLength(1 + variants.length);
  });

  it('neither looks up nor stores a last turn with tool_result blocks or images', async () => {
    upstream.setFallback(answer('not semantic'));
    const toolTurn = (output: string): Anthropic.MessageCreateParamsNonStreaming =>
      ask('', {
        tools: [TOOL],
        messages: [
          { role: 'user', content: 'list the files' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01', name: 'Bash', input: { command: 'ls' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01', content: output }, { type: 'text', text: 'what now?' }] },
        ],
      });
    const image = (text: string): Anthropic.MessageCreateParamsNonStreaming =>
      ask('', { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } }, { type: 'text', text }] }] });
    // The previous test's answers are stored after their responses: let those writes land first.
    let settled = await semanticReport(px.url);
    for (let i = 0; i < 20; i++) {
      await sleep(100);
      const again = await semanticReport(px.url);
      if (again.stores === settled.stores) break;
      settled = again;
    }
    const before = { embedded: embeddings.requests.length, report: settled };
    for (const body of [toolTurn('README.md\nsrc'), toolTurn('README.md\nsrc\n'), image('What is in this picture?'), image('what is in this picture')]) {
      expect((await post(px.url, body)).cache).toBe('miss');
    }
    await sleep(100);
    const after = await semanticReport(px.url);
    expect(embeddings.requests.length).toBe(before.embedded);
    expect(after.stores).toBe(before.report.stores);
    expect(after.skipped - before.report.skipped).toBe(4);
    expect(upstream.chatRequests).toHaveLength(4);
  });

  it('goes on uncached while the embedder is down (one warning), and resumes', async () => {
    const own = await ownProxy(upstream, { url: redis.url, embedder: openaiEmbedder(embeddings.url) });
    upstream.setFallback(answer('answered anyway'));
    embeddings.setMode('down');
    slowestMiss(await timedPosts(own.url, ['Which files changed today?', 'which files changed today', 'What changed today?']));
    const report = await health(own.url);
    expect(report.status).toBe('degraded');
    expect(report.plugins['semantic-cache']).toMatchObject({ status: 'down', embedderState: 'down' });
    const warnings = own.logs.filter((line) => line.includes('is unavailable'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"level":"warn"');
    expect(warnings[0]).toContain('the embedder (openai fake-embed at');

    embeddings.setMode('up');
    await sleep(1100);
    const stores = (await semanticReport(own.url)).stores;
    expect((await post(own.url, ask('Which tests are slow?'))).cache).toBe('miss');
    await storedSemantic(own, stores + 1);
    expect((await post(own.url, ask('which tests are slow'))).cache).toBe('semantic-hit');
    expect(own.logs.filter((line) => line.includes('answers again'))).toHaveLength(1);
    expect(own.logs.some((line) => line.includes('changed today') || line.includes('tests are slow'))).toBe(false);
  });

  it('does not let an embedder that never answers hold a request beyond embedTimeoutMs', async () => {
    const own = await ownProxy(upstream, { url: redis.url, embedder: openaiEmbedder(embeddings.url), embedTimeoutMs: 200 });
    upstream.setFallback(answer('not held'));
    embeddings.setMode('hang');
    expect(slowestMiss(await timedPosts(own.url, ['hang one', 'hang two', 'hang three']))).toBeLessThan(1000);
    expect(own.logs.filter((line) => line.includes('no answer within 200 ms'))).toHaveLength(1);
  });

  it('goes on uncached while Redis is down (one warning), and resumes once it is back', async () => {
    const ownRedis = await startRedis();
    closing.push(() => ownRedis.stop());
    const own = await ownProxy(upstream, { url: ownRedis.url, embedder: openaiEmbedder(embeddings.url) });
    upstream.setFallback(answer('redis or not'));
    expect((await post(own.url, ask('Where is the config loaded?'))).cache).toBe('miss');
    await storedSemantic(own, 1);
    await ownRedis.kill();
    expect(slowestMiss(await timedPosts(own.url, ['where is the config loaded', 'Where does the config get loaded?', 'Who loads the config?']))).toBeLessThan(1000);
    expect((await health(own.url)).plugins['semantic-cache']).toMatchObject({ status: 'down', redis: 'down' });
    expect(own.logs.filter((line) => line.includes('is unavailable'))).toHaveLength(1);

    await ownRedis.restart();
    await until(async () => {
      // no-cache: looked up in no tier (memory would answer it after the first), stored in every one.
      await post(own.url, ask('Where are the plugins loaded?'), { 'x-llm-proxy-cache': 'no-cache' });
      return (await semanticReport(own.url)).stores >= 2;
    }, 'a store after the outage');
    expect((await post(own.url, ask('where are the plugins loaded'))).cache).toBe('semantic-hit');
  });

  it("lets a second proxy answer from the first one's answers: on first use of a scope, and after syncIntervalMs", async () => {
    const second = await startFakeUpstream();
    closing.push(() => second.close());
    const options = { url: redis.url, embedder: openaiEmbedder(embeddings.url), syncIntervalMs: 300 };
    const [pxA, pxB] = [await ownProxy(upstream, options), await ownProxy(second, options)];
    upstream.setFallback(answer('from proxy A'));
    second.setFallback(answer('from proxy B'));

    const fresh = { system: 'shared scope one' };
    expect((await post(pxA.url, ask('What does the router do?', fresh))).cache).toBe('miss');
    await storedSemantic(pxA, 1);
    const loaded = await post(pxB.url, ask('what does the router do', fresh));
    expect(loaded.cache).toBe('semantic-hit');
    expect(loaded.json().content).toEqual([{ type: 'text', text: 'from proxy A' }]);

    // B reads the scope (empty) first; A's answer arrives once B's copy is older than syncIntervalMs.
    const later = { system: 'shared scope two' };
    expect((await post(pxB.url, ask('How are plugins ordered?', later), { 'x-llm-proxy-cache': 'no-store' })).cache).toBe('miss');
    expect((await post(pxA.url, ask('How are plugins ordered?', later))).cache).toBe('miss');
    await storedSemantic(pxA, 2);
    await sleep(350);
    const synced = await post(pxB.url, ask('how are plugins ordered', later));
    expect(synced.cache).toBe('semantic-hit');
    expect(synced.json().content).toEqual([{ type: 'text', text: 'from proxy A' }]);
    expect(second.chatRequests).toHaveLength(1);
  });

  it('keeps vectors as Float32 little-endian and at most maxEntriesPerScope answers per scope', async () => {
    const own = await ownProxy(upstream, { url: redis.url, embedder: openaiEmbedder(embeddings.url), maxEntriesPerScope: 2 });
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiToolCallChunks([{ name: 'Bash', args: { command: 'ls' } }]) });
    const scope = { system: 'bounded scope', tools: [TOOL] };
    for (const [i, prompt] of ['List the source files', 'Show the open issues', 'Count the lines of code'].entries()) {
      await post(own.url, ask(prompt, scope));
      await storedSemantic(own, i + 1);
    }
    const direct = new Redis(redis.url);
    try {
      const indexes = await direct.keys('llmp:v1:sem:*:s:*');
      const sizes = await Promise.all(indexes.map((key) => direct.zcard(key)));
      expect(Math.max(...sizes)).toBeLessThanOrEqual(2);
      const [entry] = await direct.keys('llmp:v1:sem:*:e:*');
      const vector = await direct.hgetBuffer(entry!, 'vec');
      expect(vector?.length).toBe(512 * 4);
      const values = Array.from({ length: 512 }, (_, i) => vector!.readFloatLE(i * 4));
      expect(Math.hypot(...values)).toBeCloseTo(1, 4);
    } finally {
      direct.disconnect();
    }
    expect((await post(own.url, ask('list the source files', scope))).cache).toBe('miss');
    expect((await post(own.url, ask('count the lines of code', scope))).cache).toBe('semantic-hit');
  });

  it("embeds with Ollama's /api/embed, directly or through an ollama backend's embed()", async () => {
    const direct = await ownProxy(upstream, { url: redis.url, embedder: { type: 'ollama', url: embeddings.url, model: 'nomic-embed-text' } });
    const viaBackend = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url), local: { type: 'ollama', url: embeddings.url, model: 'qwen3-coder:30b', embedModel: 'nomic-embed-text' } },
      plugins: cachePlugins([semanticCache({ url: redis.url, embedder: { backend: 'local' } })]),
      logLevel: 'info',
    });
    closing.push(() => viaBackend.close());
    upstream.setFallback(answer('ollama vectors'));
    for (const [i, own] of [direct, viaBackend].entries()) {
      const scope = { system: `ollama scope ${i}` };
      await post(own.url, ask('Where are the logs written?', scope));
      await storedSemantic(own, 1);
      expect((await post(own.url, ask('where are the logs written', scope))).cache).toBe('semantic-hit');
    }
    expect(embeddings.requests.filter((r) => r.path === '/api/embed' && r.model === 'nomic-embed-text').length).toBeGreaterThanOrEqual(4);
  });
});
