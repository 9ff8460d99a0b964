// What the changes that keep an open stream small must not change: the bytes a backend
// receives, the cache keys (they are stored in Redis), and what plugins can rely on.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../src/anthropic/types.js';
import type { Plugin, ProxyContext } from '../src/kernel/types.js';
import { computeCacheKeys } from '../src/plugins/cache/key.js';
import { jsonPieces } from '../src/upstream/http-client.js';
import { anthropicTextEvents, openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { fixturesPresent, fixturesRequired, loadFixture } from './support/fixtures.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from './support/proxy.js';

const long = 'line — with “quotes” and an emoji 🤖\n'.repeat(1200);
const wide: MessagesRequest = {
  model: 'claude-sonnet-4-5',
  max_tokens: 100,
  system: [{ type: 'text', text: long, cache_control: { type: 'ephemeral' } }],
  tools: [{ name: 'Bash', description: long, input_schema: { type: 'object', properties: { command: { type: 'string', description: 'x'.repeat(20000) } } } }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'hello' }] },
    { role: 'assistant', content: 'hi' },
    { role: 'user', content: [{ type: 'text', text: 'list — the files' }] },
  ],
};
const ctxFor = (body: MessagesRequest) => ({ body, route: { backend: { name: 'gpu' }, model: 'm' }, state: {} }) as unknown as ProxyContext;

/** The key's definition (docs/CACHE.md), written out plainly: canonical JSON, and each big value as the digest of its own. */
const canonicalJson = (value: unknown, strip = true): string => {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item, strip)).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  const entries = Object.entries(value).filter(([key, item]) => item !== undefined && !(strip && key === 'cache_control'));
  return `{${entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item, strip && key !== 'input' && key !== 'input_schema')}`).join(',')}}`;
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const digest = (value: unknown) => `#${sha256(canonicalJson(value))}`;

describe('cache keys', () => {
  it('are the SHA-256 of the settings with the digest of the tools, the system prompt and each turn in their place', () => {
    const keys = computeCacheKeys(ctxFor(wide));
    const [first, second, last] = wide.messages.map(digest);
    const text = (turn: string) => `{"backend":"gpu","model":"m","max_tokens":100,"messages":[${first},${second},${turn}],"system":${digest(wide.system)},"tools":${digest(wide.tools)}}`;
    expect(keys.key).toBe(`llmp:v2:${sha256(text(last!))}`);
    expect(keys.scope()).toBe(`llmp:v2:scope:${sha256(text('<last-user-turn>'))}`);
    // What keys stored in Redis are: a change here makes every stored answer a miss (bump CACHE_NAMESPACE).
    expect(keys.key).toBe('llmp:v2:c5d40da2cfb8ac6a3ca16341a0793153382a73fcbc5972798d65fc28045384c2');
    expect(keys.scope()).toBe('llmp:v2:scope:06bbca3bd0cf11474d4b91fd19bd79dd1d7086b970c85308e969e34891c3c567');
  });

  it('skip the scope digest when no semantic tier asks for it, with the same key', () => {
    const without = computeCacheKeys(ctxFor(wide), false);
    expect(without.key).toBe(computeCacheKeys(ctxFor(wide)).key);
    expect(() => without.scope()).toThrow(/without a scope/);
  });
});

describe('JSON sent upstream in pieces', () => {
  const samples: Array<[string, unknown]> = [
    ['a request with long and non-ASCII strings', wide],
    ['members JSON.stringify leaves out or turns into null', { a: undefined, b: [undefined, () => 1, 1], c: null, d: 'é', e: [], f: () => 2 }],
    ['a top-level array', [1, { a: 2 }]],
    ['a string', 'x'],
  ];
  for (const [name, value] of samples) {
    it(`is byte for byte JSON.stringify: ${name}`, () => {
      expect(Buffer.concat(jsonPieces(value)).toString('utf8')).toBe(JSON.stringify(value));
    });
  }

  describe.skipIf(!fixturesPresent && !fixturesRequired)('on a real Claude Code request', () => {
    it('is JSON.stringify too, cut into pieces far smaller than the request', () => {
      const body = loadFixture('pong-turn1').body;
      const pieces = jsonPieces(body);
      expect(Buffer.concat(pieces).toString('utf8')).toBe(JSON.stringify(body));
      expect(pieces.length).toBeGreaterThan(3);
    });
  });
});

describe('through the proxy', () => {
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let px: TestProxy;
  const seenInRespond: Array<{ messages: number; model: string; hasTools: boolean }> = [];
  const observer: Plugin = {
    name: 'observer',
    apply({ hooks }) {
      hooks.respond.tap('observer', (ctx) => {
        seenInRespond.push({ messages: ctx.body.messages.length, model: ctx.body.model, hasTools: ctx.body.tools !== undefined });
      });
    },
  };
  beforeAll(async () => {
    openai = await startFakeUpstream();
    openai.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('ok') });
    anthropic = await startFakeUpstream({ format: 'anthropic' });
    anthropic.setFallback({ kind: 'anthropic-stream', events: anthropicTextEvents('ok') });
    px = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(openai.url), claude: { type: 'anthropic', url: anthropic.url, apiKey: 'sk-test-anthropic' } },
      plugins: [observer],
    });
  });
  afterAll(async () => {
    await px.close();
    await openai.close();
    await anthropic.close();
  });

  it('passes non-ASCII text through unchanged (the body is decoded with \\u escapes, then parsed)', async () => {
    const text = 'em — dash, “quotes”, ü, 中文, 🤖 and a lone \\ backslash';
    const res = await postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: text }] }, { 'x-llm-proxy-cache': 'no-store' });
    expect(res.status).toBe(200);
    const sent = openai.chatRequests.at(-1)!;
    expect(sent.body).toMatchObject({ messages: [{ role: 'user', content: text }] });
    expect(Number(sent.headers['content-length'])).toBe(Buffer.byteLength(sent.rawBody));
  });

  it('keeps rejecting what JSON.parse rejects, and decodes invalid UTF-8 as before', async () => {
    const escapedAccent = Buffer.concat([Buffer.from('{"model":"claude-opus-4-8","max_tokens":5,"messages":[{"role":"user","content":"\\'), Buffer.from('é"}]}')]);
    const rejected = await postMessages(px.url, escapedAccent.toString('utf8'));
    expect(rejected.status).toBe(400);
    expect(rejected.text).toContain('not valid JSON');
    const invalid = Buffer.concat([Buffer.from('{"model":"claude-opus-4-8","max_tokens":5,"messages":[{"role":"user","content":"a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}]}')]);
    const res = await fetch(`${px.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-llm-proxy-cache': 'no-store' }, body: invalid });
    expect(res.status).toBe(200);
    expect(openai.chatRequests.at(-1)!.body).toMatchObject({ messages: [{ role: 'user', content: 'a\ufffd\ufffdb' }] });
  });

  it('sends the Anthropic passthrough body as the same JSON, with a content-length', async () => {
    const res = await postMessages(px.url, { ...wide, stream: true, model: 'claude/claude-sonnet-4-5' }, { 'x-llm-proxy-cache': 'no-store' });
    expect(res.status).toBe(200);
    const sent = anthropic.chatRequests.at(-1)!;
    expect(sent.body).toMatchObject({ system: wide.system, tools: wide.tools, messages: wide.messages });
    expect(Number(sent.headers['content-length'])).toBe(Buffer.byteLength(sent.rawBody));
  });

  it('lets the respond hook see the settings of the request, not its messages, system or tools', async () => {
    seenInRespond.length = 0;
    await postMessages(px.url, { ...wide, stream: true }, { 'x-llm-proxy-cache': 'no-store' });
    await expect.poll(() => seenInRespond.length).toBe(1);
    expect(seenInRespond[0]).toEqual({ messages: 0, model: 'claude-sonnet-4-5', hasTools: false });
  });
});
