// Issue 7 item 10: an OpenAI-format upstream whose answer is cut, empty, not an API answer, or an
// error in disguise must reach the client as an error (event: error, or a 502 before the first
// byte), never as a clean `end_turn`, and must never be cached: the repeat, with the upstream
// healthy again, is a miss that reaches the upstream.

import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream, type Reply } from '../../../../tests/support/fake-upstream.js';
import { openaiBackend, parseSSE, postMessages, startProxy, type TestProxy, NO_CIRCUIT } from '../../../../tests/support/proxy.js';

const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
  id: 'chatcmpl-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'qwen3-coder:30b',
  choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
});
const sse = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const TWO_CHUNKS = [chunk({ role: 'assistant', content: 'The answer is ' }), chunk({ content: 'forty' })];

interface BadReply {
  name: string;
  reply: Reply;
  /** What the client's error message says. */
  message: RegExp;
  /** Whether some of the answer was already streamed (then the stream fails with event: error). */
  midStream: boolean;
}

const BAD_REPLIES: BadReply[] = [
  {
    name: 'two content chunks, then a clean end of body (no finish_reason, no [DONE])',
    reply: { kind: 'openai-stream', chunks: TWO_CHUNKS, done: false },
    message: /stream ended before its final chunk/,
    midStream: true,
  },
  {
    name: 'an HTTP 200 text/html page',
    reply: {
      kind: 'raw',
      headers: { 'content-type': 'text/html; charset=utf-8' },
      parts: ['<!DOCTYPE html><html><head><title>Sign in - Gateway</title></head><body><form>…</form></body></html>'],
    },
    message: /HTTP 200 with text\/html.*Sign in - Gateway.*OpenAI-compatible API/,
    midStream: false,
  },
  {
    name: 'an HTTP 200 empty event stream',
    reply: { kind: 'raw', headers: { 'content-type': 'text/event-stream' }, parts: [] },
    message: /empty event stream/,
    midStream: false,
  },
  {
    name: 'an event stream of only [DONE]',
    reply: { kind: 'raw', headers: { 'content-type': 'text/event-stream' }, parts: ['data: [DONE]\n\n'] },
    message: /empty event stream/,
    midStream: false,
  },
  {
    name: 'a mid-stream {"error": {...}} chunk (LiteLLM, vLLM)',
    reply: {
      kind: 'raw',
      parts: [...TWO_CHUNKS.map(sse), sse({ error: { message: 'CUDA out of memory on device 0', type: 'InternalServerError', code: 500 } }), 'data: [DONE]\n\n'],
    },
    message: /reported an error in its stream.*CUDA out of memory on device 0/,
    midStream: true,
  },
  {
    name: 'an {"error": "..."} chunk as the first chunk (TGI)',
    reply: { kind: 'raw', parts: [sse({ error: 'Input validation error: too many tokens', error_type: 'validation' }), 'data: [DONE]\n\n'] },
    message: /reported an error in its stream.*Input validation error: too many tokens/,
    midStream: false,
  },
  {
    name: 'an HTTP 200 JSON body without `choices`',
    reply: { kind: 'json', body: { id: 'chatcmpl-2', object: 'chat.completion', model: 'qwen3-coder:30b' } },
    message: /JSON without a `choices` array/,
    midStream: false,
  },
  {
    name: 'an HTTP 200 JSON body that is an error',
    reply: { kind: 'json', body: { error: { message: 'upstream provider timed out', type: 'timeout', code: 504 } } },
    message: /answered HTTP 200 with an error.*upstream provider timed out/,
    midStream: false,
  },
];

describe('an OpenAI-format upstream that cuts, empties or disguises its answer (Anthropic SDK)', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  let sdk: Anthropic;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [NO_CIRCUIT] });
    sdk = px.client;
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  const ask = (text: string) => ({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user' as const, content: text }] });

  /** The same request again, the upstream healthy: a miss that reaches it, then a hit. */
  async function expectRepeatReachesUpstream(text: string, stream: boolean): Promise<void> {
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('The answer is forty-two.') });
    const request = ask(text);
    const again = stream
      ? await sdk.messages.stream(request).withResponse()
      : await sdk.messages.create(request).withResponse();
    expect(again.response.headers.get('x-llm-proxy-cache')).toBe('miss');
    const message = 'finalMessage' in again.data ? await again.data.finalMessage() : again.data;
    expect(message.content).toEqual([{ type: 'text', text: 'The answer is forty-two.' }]);
    expect(upstream.chatRequests).toHaveLength(2);
    // And that complete answer is what the cache keeps.
    const third = await sdk.messages.create(request).withResponse();
    expect(third.response.headers.get('x-llm-proxy-cache')).toBe('hit');
    expect(upstream.chatRequests).toHaveLength(2);
  }

  for (const bad of BAD_REPLIES) {
    it(`${bad.name}: a stream client sees an error, and the repeat reaches the upstream`, async () => {
      const text = `stream: ${bad.name}`;
      upstream.enqueue(bad.reply);
      const failed = await sdk.messages
        .stream(ask(text))
        .finalMessage()
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failed).toBeInstanceOf(Anthropic.APIError);
      expect((failed as Error).message).toMatch(bad.message);
      expect((failed as Error).message).toMatch(/backend \\?"gpu\\?"/);
      // Nothing was streamed yet: a proper HTTP error; else an `event: error` inside the 200 stream.
      if (!bad.midStream) expect((failed as InstanceType<typeof Anthropic.APIError>).status).toBe(502);
      await expectRepeatReachesUpstream(text, true);
    });

    it(`${bad.name}: a JSON client gets a 502 naming the problem, and the repeat reaches the upstream`, async () => {
      const text = `json: ${bad.name}`;
      upstream.enqueue(bad.reply);
      const failed = await sdk.messages.create(ask(text)).then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(failed).toBeInstanceOf(Anthropic.APIError);
      const apiError = failed as InstanceType<typeof Anthropic.APIError>;
      expect(apiError.status).toBe(502);
      expect(apiError.message).toMatch(bad.message);
      expect(apiError.message).toMatch(/backend \\?"gpu\\?"/);
      expect(apiError.message).not.toMatch(/Internal proxy error/);
      await expectRepeatReachesUpstream(text, false);
    });
  }

  it('a cut stream never ends cleanly on the wire: the content, then event: error, no message_stop', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: TWO_CHUNKS, done: false });
    const res = await postMessages(px.url, { ...ask('raw cut'), stream: true });
    expect(res.status).toBe(200);
    const events = parseSSE(res.text);
    const names = events.map((event) => event.event);
    expect(names).toContain('content_block_delta');
    expect(names).not.toContain('message_delta');
    expect(names).not.toContain('message_stop');
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { type: 'error', error: { type: 'api_error' } } });
  });

  it('content then a bare [DONE] without any finish_reason counts as complete (end_turn) and is cached', async () => {
    upstream.enqueue({ kind: 'raw', parts: [...TWO_CHUNKS.map(sse), 'data: [DONE]\n\n'] });
    const streamed = await sdk.messages.stream(ask('bare done')).finalMessage();
    expect(streamed.content).toEqual([{ type: 'text', text: 'The answer is forty' }]);
    expect(streamed.stop_reason).toBe('end_turn');
    const repeat = await sdk.messages.create(ask('bare done')).withResponse();
    expect(repeat.response.headers.get('x-llm-proxy-cache')).toBe('hit');
    expect(upstream.chatRequests).toHaveLength(1);
  });

  it('a finish_reason with no content is a complete (empty) answer, not an error', async () => {
    upstream.enqueue({ kind: 'openai-stream', chunks: [chunk({ role: 'assistant', content: '' }), chunk({}, 'length')] });
    const message = await sdk.messages.create(ask('nothing to say'));
    expect(message.content).toEqual([]);
    expect(message.stop_reason).toBe('max_tokens');
  });
});
