import { describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../../anthropic/types.js';
import type { ProxyContext } from '../../kernel/types.js';
import { cacheKeysOf, computeCacheKeys } from './key.js';
import { fixturesPresent, fixturesRequired, loadFixture } from '../../../tests/support/fixtures.js';

function ctxFor(body: MessagesRequest, opts: { backend?: string; model?: string; tenant?: string } = {}): ProxyContext {
  const ctx = {
    body,
    route: { backend: { name: opts.backend ?? 'gpu' }, model: opts.model ?? 'qwen3-coder:30b' },
    state: opts.tenant ? { clientKeyId: opts.tenant } : {},
  };
  return ctx as unknown as ProxyContext;
}

const keyOf = (body: MessagesRequest, opts?: Parameters<typeof ctxFor>[1]) => computeCacheKeys(ctxFor(body, opts)).key;

const base: MessagesRequest = {
  model: 'claude-sonnet-4-5',
  max_tokens: 100,
  system: [{ type: 'text', text: 'You are terse.' }],
  tools: [{ name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
  messages: [
    { role: 'user', content: [{ type: 'text', text: 'hello' }] },
    { role: 'assistant', content: [{ type: 'text', text: 'hi' }] },
    { role: 'user', content: [{ type: 'text', text: 'list the files' }] },
  ],
};

describe('the exact cache key', () => {
  it('is namespaced and versioned, and ignores key order, metadata, stream and every cache_control', () => {
    const key = keyOf(base);
    expect(key).toMatch(/^llmp:v2:[0-9a-f]{64}$/);
    const reordered = JSON.parse(JSON.stringify({ messages: base.messages, tools: base.tools, system: base.system, max_tokens: 100, model: 'x' })) as MessagesRequest;
    expect(keyOf(reordered)).toBe(key);
    const marked: MessagesRequest = {
      ...base,
      stream: true,
      metadata: { user_id: '{"session_id":"abc"}' },
      system: [{ type: 'text', text: 'You are terse.', cache_control: { type: 'ephemeral' } }],
      tools: [{ ...base.tools![0]!, cache_control: { type: 'ephemeral', ttl: '1h' } }],
      messages: base.messages.map((m) => ({ ...m, content: (m.content as Array<{ type: 'text'; text: string }>).map((b) => ({ ...b, cache_control: { type: 'ephemeral' as const } })) })),
    };
    expect(keyOf(marked)).toBe(key);
  });

  it('keeps a cache_control that is part of a tool schema or a tool input', () => {
    const schema = { type: 'object', properties: { cache_control: { type: 'string' } } };
    expect(keyOf({ ...base, tools: [{ name: 'Bash', input_schema: schema }] })).not.toBe(keyOf({ ...base, tools: [{ name: 'Bash', input_schema: { type: 'object', properties: {} } }] }));
  });

  it('changes with the backend, the upstream model, the tenant and every answer-determining field', () => {
    const key = keyOf(base);
    const variants: Array<[MessagesRequest, Parameters<typeof ctxFor>[1]?]> = [
      [base, { backend: 'other' }],
      [base, { model: 'llama3' }],
      [base, { tenant: 'a' }],
      [{ ...base, system: 'You are verbose.' }],
      [{ ...base, tools: [] }],
      [{ ...base, tool_choice: { type: 'any' } }],
      [{ ...base, thinking: { type: 'enabled', budget_tokens: 1024 } }],
      [{ ...base, temperature: 0 }],
      [{ ...base, top_p: 0.9 }],
      [{ ...base, top_k: 5 }],
      [{ ...base, stop_sequences: ['END'] }],
      [{ ...base, max_tokens: 101 }],
      [{ ...base, output_config: { effort: 'low' } }],
      [{ ...base, messages: base.messages.slice(0, 1) }],
    ];
    const keys = variants.map(([body, opts]) => keyOf(body, opts));
    expect(new Set([key, ...keys]).size).toBe(variants.length + 1);
    expect(keyOf(base, { tenant: 'a' })).not.toBe(keyOf(base, { tenant: 'b' }));
  });

  it('ignores the model name the client asked for when it resolves to the same upstream model', () => {
    expect(keyOf({ ...base, model: 'claude-opus-4-1' })).toBe(keyOf(base));
  });
});

describe('the scope (for a semantic cache)', () => {
  it('is the key without the last user turn, which is exposed as text', () => {
    const a = computeCacheKeys(ctxFor(base));
    const b = computeCacheKeys(ctxFor({ ...base, messages: [...base.messages.slice(0, 2), { role: 'user', content: 'show me the files' }] }));
    expect(a.key).not.toBe(b.key);
    expect(a.scope()).toBe(b.scope());
    expect(a.scope()).toMatch(/^llmp:v2:scope:[0-9a-f]{64}$/);
    expect(a.lastUserText).toBe('list the files');
    expect(b.lastUserText).toBe('show me the files');
    expect(a.semanticEligible).toBe(true);
    expect(computeCacheKeys(ctxFor({ ...base, system: 'other' })).scope()).not.toBe(a.scope());
  });

  it('finds the last user turn before trailing role:"system" messages, and refuses tool results', () => {
    const withSystem = computeCacheKeys(ctxFor({ ...base, messages: [...base.messages, { role: 'system', content: 'agents: ...' }] }));
    expect(withSystem.lastUserText).toBe('list the files');
    const toolTurn = computeCacheKeys(ctxFor({ ...base, messages: [...base.messages.slice(0, 2), { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] }] }));
    expect(toolTurn.semanticEligible).toBe(false);
  });
});

describe.skipIf(!fixturesPresent && !fixturesRequired)('on a real Claude Code request', () => {
  // What it costs is measured in bench/perf.ts, not here.
  it('is computed once per request, and the same for the same request', () => {
    const body = loadFixture('tool-turn2').body as MessagesRequest;
    const ctx = ctxFor(body);
    expect(cacheKeysOf(ctx)).toBe(cacheKeysOf(ctx));
    expect(computeCacheKeys(ctxFor(structuredClone(body))).key).toBe(cacheKeysOf(ctx).key);
  });
});

describe('the key of a request whose tools, system prompt and turns were recognised by their bytes', () => {
  it('is the key of the same request parsed afresh, and differs when the tools do', async () => {
    const { scanJson } = await import('../../json/raw-json.js');
    const { recogniseParsed } = await import('../../json/raw-values.js');
    const recognised = (text: string): MessagesRequest => {
      const raw = Buffer.from(text);
      const body = JSON.parse(text) as Record<string, unknown>;
      const scan = scanJson(raw, 128, new Set(['tools', 'system']), new Set(['messages']));
      for (const [name, [start, end]] of scan.members) recogniseParsed(body[name], raw.subarray(start, end));
      scan.elements.get('messages')?.forEach(([start, end], i) => recogniseParsed((body.messages as unknown[])[i], raw.subarray(start, end)));
      return body as unknown as MessagesRequest;
    };
    const text = JSON.stringify(base);
    const plain = keyOf(JSON.parse(text) as MessagesRequest);
    expect(keyOf(recognised(text))).toBe(plain);
    expect(keyOf(recognised(text))).toBe(plain);
    const otherTools = text.replace('"command"', '"cmd"');
    expect(keyOf(recognised(otherTools))).toBe(keyOf(JSON.parse(otherTools) as MessagesRequest));
    expect(keyOf(recognised(otherTools))).not.toBe(plain);
    const otherTurn = text.replace('list the files', 'list the folders');
    expect(keyOf(recognised(otherTurn))).toBe(keyOf(JSON.parse(otherTurn) as MessagesRequest));
    expect(keyOf(recognised(otherTurn))).not.toBe(plain);
  });
});
