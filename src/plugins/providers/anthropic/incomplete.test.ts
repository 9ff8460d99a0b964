// Issue 7 item 10 for the Anthropic pass-through and Ollama: an answer that ends without its
// terminal event (`message_stop`, Ollama's `done: true`), an empty stream, a web page or a JSON
// body that is not a message reaches the client as an error and is never cached: the repeat, with
// the upstream healthy again, is a miss that reaches the upstream.

import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StreamEvent } from '../../../anthropic/types.js';
import { anthropicText, anthropicTextEvents, startFakeUpstream, type FakeUpstream, type Reply } from '../../../../tests/support/fake-upstream.js';
import { ollamaLine, ollamaTextLines, startFakeOllama, type FakeOllama } from '../../../../tests/support/fake-ollama.js';
import { parseSSE, postMessages, startProxy, type TestProxy, NO_CIRCUIT } from '../../../../tests/support/proxy.js';

const ask = (text: string) => ({ model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user' as const, content: text }] });
const WITHOUT_STOP: StreamEvent[] = anthropicTextEvents('The answer is forty', { pieces: 2 }).filter((event) => event.type !== 'message_stop');
const BEFORE_DELTA: StreamEvent[] = anthropicTextEvents('The answer is forty', { pieces: 2 }).slice(0, 4);
const sse = (event: StreamEvent) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

async function failureOf(promise: Promise<unknown>): Promise<InstanceType<typeof Anthropic.APIError>> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(Anthropic.APIError);
  return error as InstanceType<typeof Anthropic.APIError>;
}

interface BadReply {
  name: string;
  reply: Reply;
  message: RegExp;
  /** The status a JSON client sees (and a stream client, when nothing was streamed yet). */
  midStream: boolean;
}

const BAD_REPLIES: BadReply[] = [
  {
    name: 'a stream that ends cleanly after message_delta, without message_stop',
    reply: { kind: 'anthropic-stream', events: WITHOUT_STOP },
    message: /stream ended before message_stop/,
    midStream: true,
  },
  {
    name: 'a stream that ends cleanly in the middle of a text block',
    reply: { kind: 'anthropic-stream', events: BEFORE_DELTA },
    message: /stream ended before message_stop/,
    midStream: true,
  },
  {
    name: 'an HTTP 200 empty event stream',
    reply: { kind: 'raw', headers: { 'content-type': 'text/event-stream' }, parts: [] },
    message: /empty event stream/,
    midStream: false,
  },
  {
    name: 'an HTTP 200 text/html page',
    reply: { kind: 'raw', headers: { 'content-type': 'text/html' }, parts: ['<html><head><title>Welcome to nginx!</title></head><body></body></html>'] },
    message: /HTTP 200 with text\/html.*Welcome to nginx!.*Anthropic-compatible API/,
    midStream: false,
  },
  {
    name: 'an HTTP 200 JSON body that is not a message',
    reply: { kind: 'json', body: { id: 'msg_1', model: 'claude-sonnet-4-5' } },
    message: /JSON that is not a message/,
    midStream: false,
  },
  {
    name: 'an HTTP 200 JSON error body',
    reply: { kind: 'json', body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded right now' } } },
    message: /answered HTTP 200 with an error.*Overloaded right now/,
    midStream: false,
  },
];

describe('an Anthropic-format upstream that cuts, empties or disguises its answer (Anthropic SDK)', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;

  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'anthropic' });
    px = await startProxy({ backend: 'claude', backends: { claude: { type: 'anthropic', url: upstream.url, apiKey: 'sk-ant-test-upstream' } }, plugins: [NO_CIRCUIT] });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });
  beforeEach(() => upstream.reset());

  async function expectRepeatReachesUpstream(text: string, stream: boolean): Promise<void> {
    upstream.enqueue(stream ? { kind: 'anthropic-stream', events: anthropicTextEvents('forty-two') } : { kind: 'json', body: anthropicText('forty-two') });
    const again = stream ? await px.client.messages.stream(ask(text)).withResponse() : await px.client.messages.create(ask(text)).withResponse();
    expect(again.response.headers.get('x-llm-proxy-cache')).toBe('miss');
    const message = 'finalMessage' in again.data ? await again.data.finalMessage() : again.data;
    expect(message.content).toEqual([{ type: 'text', text: 'forty-two' }]);
    expect(upstream.chatRequests).toHaveLength(2);
    const third = await px.client.messages.create(ask(text)).withResponse();
    expect(third.response.headers.get('x-llm-proxy-cache')).toBe('hit');
    expect(upstream.chatRequests).toHaveLength(2);
  }

  for (const bad of BAD_REPLIES) {
    it(`${bad.name}: a stream client sees an error, and the repeat reaches the upstream`, async () => {
      const text = `stream: ${bad.name}`;
      upstream.enqueue(bad.reply);
      const error = await failureOf(px.client.messages.stream(ask(text)).finalMessage());
      expect(error.message).toMatch(bad.message);
      expect(error.message).toMatch(/backend \\?"claude\\?"/);
      if (!bad.midStream) expect(error.status).toBe(502);
      await expectRepeatReachesUpstream(text, true);
    });

    it(`${bad.name}: a JSON client gets a 502 naming the problem, and the repeat reaches the upstream`, async () => {
      const text = `json: ${bad.name}`;
      // The JSON client's request goes upstream with stream:false; some servers stream anyway.
      upstream.enqueue(bad.reply);
      const error = await failureOf(px.client.messages.create(ask(text)));
      expect(error.status).toBe(502);
      expect(error.message).toMatch(bad.message);
      expect(error.message).toMatch(/backend \\?"claude\\?"/);
      await expectRepeatReachesUpstream(text, false);
    });
  }

  it('a stream without message_stop never ends cleanly on the wire', async () => {
    upstream.enqueue({ kind: 'anthropic-stream', events: WITHOUT_STOP });
    const res = await postMessages(px.url, { ...ask('raw, no message_stop'), stream: true });
    const events = parseSSE(res.text);
    expect(events.map((event) => event.event)).not.toContain('message_stop');
    expect(events.at(-1)).toMatchObject({ event: 'error', data: { error: { type: 'api_error' } } });
  });

  it('a JSON client is answered from a complete event stream when the server streams anyway', async () => {
    upstream.enqueue({ kind: 'raw', parts: anthropicTextEvents('streamed regardless').map(sse) });
    const message = await px.client.messages.create(ask('streams anyway'));
    expect(message.content).toEqual([{ type: 'text', text: 'streamed regardless' }]);
    expect((upstream.chatRequests[0]!.body as { stream?: boolean }).stream).toBeFalsy();
  });

  it('a stream client is answered from a whole JSON message when the server ignores stream:true', async () => {
    upstream.enqueue({ kind: 'json', body: anthropicText('one JSON answer') });
    const message = await px.client.messages.stream(ask('ignores stream')).finalMessage();
    expect(message.content).toEqual([{ type: 'text', text: 'one JSON answer' }]);
  });
});

describe('an Ollama stream without its final done line (Anthropic SDK)', () => {
  let ollama: FakeOllama;
  let px: TestProxy;

  beforeAll(async () => {
    ollama = await startFakeOllama();
    px = await startProxy({ backend: 'local', backends: { local: { type: 'ollama', url: ollama.url, model: 'qwen3-coder:30b' } }, plugins: [NO_CIRCUIT] });
  });
  afterAll(async () => {
    await px.close();
    await ollama.close();
  });
  beforeEach(() => ollama.reset());

  for (const stream of [true, false]) {
    it(`${stream ? 'a stream' : 'a JSON'} client sees an error, and the repeat reaches Ollama`, async () => {
      const text = `ollama cut, stream ${stream}`;
      ollama.enqueue({ kind: 'stream', lines: [ollamaLine({ content: 'The answer ' }), ollamaLine({ content: 'is forty' })] });
      const error = await failureOf(stream ? px.client.messages.stream(ask(text)).finalMessage() : px.client.messages.create(ask(text)));
      expect(error.message).toContain('before its final `done` line');
      if (!stream) expect(error.status).toBe(502);

      ollama.enqueue({ kind: 'stream', lines: ollamaTextLines('The answer is forty-two.') });
      const again = await px.client.messages.create(ask(text)).withResponse();
      expect(again.response.headers.get('x-llm-proxy-cache')).toBe('miss');
      expect(again.data.content).toEqual([{ type: 'text', text: 'The answer is forty-two.' }]);
      const chats = ollama.chatRequests.length;
      const third = await px.client.messages.create(ask(text)).withResponse();
      expect(third.response.headers.get('x-llm-proxy-cache')).toBe('hit');
      expect(ollama.chatRequests).toHaveLength(chats);
    });
  }
});
