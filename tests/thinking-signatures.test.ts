import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiText, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { openaiBackend, startProxy, type TestProxy } from './support/proxy.js';
import { startSigningUpstream, type SigningUpstream } from './support/signing-anthropic.js';

type Param = Anthropic.MessageParam;
type Block = { type: string; thinking?: string; signature?: string; text?: string };

// A conversation that moves between backends (`/model`, `switch`, failover) carries thinking
// blocks signed by the backend that wrote them. Two Anthropic-format upstreams that check
// signatures as the real API does, and an OpenAI-format one whose reasoning comes back unsigned.
describe('thinking signatures across backends', () => {
  let a: SigningUpstream;
  let b: SigningUpstream;
  let gpu: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    [a, b, gpu] = await Promise.all([startSigningUpstream('alpha'), startSigningUpstream('beta'), startFakeUpstream({ format: 'openai' })]);
    px = await startProxy({
      backend: 'a',
      backends: {
        // Each stands in for Anthropic's API (`server`): one that verifies signatures.
        a: { type: 'anthropic', url: a.url, apiKey: 'sk-ant-a', model: 'claude-sonnet-4-5', server: 'anthropic-api' },
        b: { type: 'anthropic', url: b.url, apiKey: 'sk-ant-b', model: 'claude-sonnet-4-5', server: 'anthropic-api' },
        gpu: openaiBackend(gpu.url),
      },
    });
  });
  afterAll(async () => {
    await px?.close();
    await Promise.all([a?.close(), b?.close(), gpu?.close()]);
  });

  const turn = async (model: string, history: Param[], stream: boolean): Promise<Param[]> => {
    const params = { model, max_tokens: 100, messages: [...history, { role: 'user' as const, content: `question ${history.length}` }] };
    const message = stream ? await px.client.messages.stream(params).finalMessage() : await px.client.messages.create(params);
    return [...params.messages, { role: 'assistant', content: message.content as Param['content'] }];
  };
  const thinkingIn = (body: Record<string, unknown>) =>
    ((body.messages ?? []) as Array<{ role: string; content: string | Block[] }>)
      .flatMap((m) => (typeof m.content === 'string' ? [] : m.content))
      .filter((block) => block.type === 'thinking')
      .map((block) => block.thinking);

  it('each backend gets back only the thinking it signed, with its own signature; the others are left out', async () => {
    let history = await turn('a/claude-sonnet-4-5', [], true);
    const signed = (history[1]!.content as Block[])[0]!;
    expect(signed.type).toBe('thinking');
    // What the client holds is marked with the signer, not the upstream's bare signature.
    expect(signed.signature).toMatch(/^llmp1\./);

    history = await turn('b/claude-sonnet-4-5', history, false);
    expect(thinkingIn(b.received.at(-1)!)).toEqual([]);

    gpu.enqueue({ kind: 'json', body: openaiText('from the gpu', { reasoning: 'gpu reasoning' }) });
    history = await turn('gpu/qwen3-coder:30b', history, false);
    expect((history.at(-1)!.content as Block[])[0]).toMatchObject({ type: 'thinking', thinking: 'gpu reasoning', signature: '' });

    // Back on a: its own block, unmarked, and neither b's nor the gpu's unsigned one.
    history = await turn('a/claude-sonnet-4-5', history, true);
    expect(thinkingIn(a.received.at(-1)!)).toEqual(['alpha thought 1']);
    const sent = (a.received.at(-1)!.messages as Array<{ content: Block[] | string }>)[1]!.content as Block[];
    expect(sent[0]!.signature).not.toMatch(/^llmp1\./);

    // And b: its own block from the second turn only.
    await turn('b/claude-sonnet-4-5', history, false);
    expect(thinkingIn(b.received.at(-1)!)).toEqual(['beta thought 1']);
  });

  it("a tool-use turn whose thinking another backend signed is sent without extended thinking (the API would refuse it)", async () => {
    const first = await px.client.messages.create({ model: 'b/claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'list files' }] });
    const thinking = first.content.find((block) => block.type === 'thinking');
    expect(thinking).toBeDefined();
    const history: Param[] = [
      { role: 'user', content: 'list files' },
      { role: 'assistant', content: [thinking as Anthropic.ThinkingBlockParam, { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'README.md' }] },
    ];
    const answer = await px.client.messages.create({
      model: 'a/claude-sonnet-4-5',
      max_tokens: 2000,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      tools: [{ name: 'Bash', input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
      messages: history,
    });
    expect(answer.content.some((block) => block.type === 'text')).toBe(true);
    const sent = a.received.at(-1)!;
    expect(sent.thinking).toBeUndefined();
    expect(thinkingIn(sent)).toEqual([]);
  });
});
