import type Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { openaiTextChunks, type Reply } from '../../../tests/support/fake-upstream.js';
import { openaiBackend } from '../../../tests/support/proxy.js';
import { ask, cachedProxySuite, cachePlugins, cacheReport, post, sleep } from '../../../tests/support/cache.js';

/** A streamed answer whose chunks arrive 20 ms apart, after `delayMs` of silence. */
function slowAnswer(text: string, delayMs: number, extra: { cutAfter?: number } = {}): Reply {
  const chunks = openaiTextChunks(text, { pieces: 6, usage: { prompt_tokens: 500, completion_tokens: 60 } }).flatMap((chunk) => [chunk, { delayMs: 20 }]);
  return { kind: 'delay', ms: delayMs, then: { kind: 'openai-stream', chunks, ...extra } };
}

const textOf = (message: Anthropic.Message) => message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');

describe('single flight', () => {
  const suite = cachedProxySuite((url) => ({ backend: 'gpu', backends: { gpu: openaiBackend(url) }, plugins: cachePlugins(), logLevel: 'info' }));

  it('makes one upstream call for 50 concurrent identical requests, streaming and not', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(slowAnswer('one answer shared by fifty requests', 300));
    const body = ask('fifty at once');
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? px.client.messages.stream(body).finalMessage() : px.client.messages.create(body))),
    );
    expect(upstream.chatRequests).toHaveLength(1);
    for (const message of results) {
      expect(textOf(message)).toBe('one answer shared by fifty requests');
      expect(message.usage).toMatchObject({ input_tokens: 500, output_tokens: 60 });
    }
    await sleep(50);
    const report = await cacheReport(px.url);
    expect((report.hits.flight ?? 0) + (report.hits.memory ?? 0)).toBe(49);
  });

  it('streams a follower the leader\'s events as they arrive', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(slowAnswer('live for every follower', 100));
    const leader = px.client.messages.stream(ask('live follow')).finalMessage();
    await upstream.waitForRequests(1, { endpoint: 'chat' });
    const follower = px.client.messages.stream(ask('live follow'));
    const pieces: string[] = [];
    follower.on('text', (text) => pieces.push(text));
    const [first, second] = await Promise.all([leader, follower.finalMessage()]);
    expect(textOf(second)).toBe(textOf(first));
    expect(pieces.length).toBeGreaterThan(1);
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('releases the followers when the leader fails before its answer starts: they try again, one of them upstream', async () => {
    const { upstream, px } = suite;
    upstream.enqueue({ kind: 'delay', ms: 300, then: { kind: 'error', status: 500, message: 'leader failed' } }, slowAnswer('second try', 100));
    const body = ask('leader fails');
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? px.client.messages.stream(body).finalMessage() : px.client.messages.create(body))),
    );
    const failed = results.filter((r) => r.status === 'rejected');
    const answered = results.flatMap((r) => (r.status === 'fulfilled' ? [textOf(r.value)] : []));
    expect(failed).toHaveLength(1);
    expect(answered).toEqual(Array(9).fill('second try'));
    expect(upstream.chatRequests).toHaveLength(2);
  });

  it('releases waiting followers when the leader\'s stream is cut; a stream already following gets the error', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(slowAnswer('this one is cut short', 50, { cutAfter: 5 }), slowAnswer('complete', 50));
    const leader = post(px.url, { ...ask('leader cut'), stream: true });
    await upstream.waitForRequests(1, { endpoint: 'chat' });
    const followers = Promise.all(Array.from({ length: 5 }, () => px.client.messages.create(ask('leader cut'))));
    await sleep(80);
    const attached = await post(px.url, { ...ask('leader cut'), stream: true });
    expect(attached.cache).toBe('hit');
    expect(attached.text).toContain('event: error');
    expect((await leader).text).toContain('event: error');
    expect((await followers).map(textOf)).toEqual(Array(5).fill('complete'));
    expect(upstream.chatRequests).toHaveLength(2);
  });

  it('releases waiting followers when the leader\'s client goes away', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(slowAnswer('abandoned', 300), slowAnswer('answer after the leader left', 50));
    const controller = new AbortController();
    const leader = fetch(`${px.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'k' },
      body: JSON.stringify({ ...ask('leader leaves'), stream: true }),
      signal: controller.signal,
    }).catch(() => undefined);
    await upstream.waitForRequests(1, { endpoint: 'chat' });
    const followers = Array.from({ length: 3 }, () => px.client.messages.create(ask('leader leaves')));
    await sleep(50);
    controller.abort();
    await leader;
    expect((await Promise.all(followers)).map(textOf)).toEqual(Array(3).fill('answer after the leader left'));
    expect(upstream.chatRequests).toHaveLength(2);
  });

  it('does not make a no-cache request follow, nor a no-store request lead', async () => {
    const { upstream, px } = suite;
    upstream.enqueue(slowAnswer('led', 200), slowAnswer('own', 10));
    const leader = px.client.messages.create(ask('flight control'));
    await upstream.waitForRequests(1, { endpoint: 'chat' });
    const fresh = await post(px.url, ask('flight control'), { 'x-llm-proxy-cache': 'no-cache' });
    expect(fresh.json().content).toEqual([{ type: 'text', text: 'own' }]);
    expect(textOf(await leader)).toBe('led');

    upstream.enqueue(slowAnswer('a', 200), slowAnswer('b', 10));
    const unstored = post(px.url, ask('flight no-store'), { 'x-llm-proxy-cache': 'no-store' });
    await upstream.waitForRequests(3, { endpoint: 'chat' });
    const other = await post(px.url, ask('flight no-store'));
    expect(other.cache).toBe('miss');
    expect((await unstored).json().content).toEqual([{ type: 'text', text: 'a' }]);
    expect(upstream.chatRequests).toHaveLength(4);
  });
});
