import { APIError } from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { anthropicTextEvents, startFakeUpstream, type FakeUpstream } from '../../../../tests/support/fake-upstream.js';
import { fixturesPresent, fixturesRequired, loadFixture } from '../../../../tests/support/fixtures.js';
import { NO_CIRCUIT, parseError, parseSSE, postMessages, startProxy, type TestProxy } from '../../../../tests/support/proxy.js';
import { startStrictUpstream, type StrictUpstream } from '../../../../tests/support/strict-anthropic.js';

type Json = Record<string, unknown>;
type Block = Json & { type: string };
type Turn = { role: string; content: string | Block[] };

/** The headers Claude Code 2.1.197 sent with tool-turn2 that a client sets (not the transport's). */
function claudeCodeHeaders(): Record<string, string> {
  const captured = loadFixture('tool-turn2.headers').body as Record<string, string>;
  const { host: _host, 'content-length': _length, connection: _connection, 'accept-encoding': _encoding, 'x-api-key': _key, ...rest } = captured;
  return rest;
}

/**
 * tool-turn2 as captured, plus what Claude Code adds when those betas are in use: a scoped
 * cache_control on the system prompt, a deferred tool, and the assistant's signed thinking
 * (with a redacted block) from Anthropic's API.
 */
function claudeCodeTurn(): Json {
  const body = structuredClone(loadFixture('tool-turn2').body);
  const system = body.system as Block[];
  system[1] = { ...system[1]!, cache_control: { type: 'ephemeral', scope: 'global' } };
  const tools = body.tools as Block[];
  tools[tools.length - 1] = { ...tools.at(-1)!, defer_loading: true };
  const assistant = (body.messages as Turn[]).find((m) => m.role === 'assistant')!;
  assistant.content = [
    { type: 'thinking', thinking: 'run the command', signature: 'EqQBCkYIBxgCKkD0anthropicsignature' },
    { type: 'redacted_thinking', data: 'EmwKAhgBEgy3opaque' },
    ...(assistant.content as Block[]),
  ];
  return body;
}

const BETAS_OF_FEATURES = ['context-management-2025-06-27', 'prompt-caching-scope-2026-01-05', 'mid-conversation-system-2026-04-07'];

describe.skipIf(!fixturesPresent && !fixturesRequired)('fields each Anthropic-format backend accepts (real Claude Code request)', () => {
  let recorder: FakeUpstream;
  let strict: StrictUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    [recorder, strict] = await Promise.all([startFakeUpstream({ format: 'anthropic' }), startStrictUpstream('strict ok')]);
    px = await startProxy({
      backend: 'vllm',
      backends: {
        vllm: { type: 'anthropic', url: recorder.url, server: 'vllm', cache: false },
        // No `server`: any URL but Anthropic's own is the conservative `generic`.
        strict: { type: 'anthropic', url: strict.url, cache: false },
        // A server said to take everything, at the same strict URL: shows what the strict one refuses.
        careless: { type: 'anthropic', url: strict.url, server: 'litellm', cache: false },
        tuned: { type: 'anthropic', url: recorder.url, server: 'generic', accepts: { contextManagement: true, betas: ['claude-code-20250219'] }, cache: false },
      },
      plugins: [NO_CIRCUIT],
    });
  });
  afterAll(async () => {
    await px?.close();
    await Promise.all([recorder?.close(), strict?.close()]);
  });
  beforeEach(() => recorder.reset());

  it('vLLM gets no field it lacks, each with its beta, the system messages folded into user turns, thinking unsigned', async () => {
    recorder.enqueue({ kind: 'anthropic-stream', events: anthropicTextEvents('done') });
    const sentBody = claudeCodeTurn();
    const headers = claudeCodeHeaders();
    const res = await postMessages(px.url, sentBody, headers);
    expect(res.status).toBe(200);
    expect(parseSSE(res.text).at(-1)!.event).toBe('message_stop');

    const sent = recorder.chatRequests[0]!;
    const body = sent.body as Json;
    expect(body.context_management).toBeUndefined();
    // vLLM reads output_config.effort, so it and its beta stay.
    expect(body.output_config).toEqual({ effort: 'high' });
    // Only the betas of features vLLM takes; it reads no other.
    expect(sent.headers['anthropic-beta']).toBe('effort-2025-11-24');

    const system = body.system as Block[];
    expect(system.map((b) => b.text)).toEqual((sentBody.system as Block[]).map((b) => b.text));
    expect(system[1]!.cache_control).toEqual({ type: 'ephemeral' });

    const tools = body.tools as Block[];
    expect(tools).toHaveLength(24);
    expect(tools.some((tool) => 'defer_loading' in tool)).toBe(false);
    expect(tools.slice(0, -1)).toEqual((sentBody.tools as Block[]).slice(0, -1));

    const messages = body.messages as Turn[];
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    const systemText = (sentBody.messages as Turn[])[1]!.content as string;
    expect((messages[0]!.content as Block[]).at(-1)).toEqual({ type: 'text', text: `<system-reminder>\n${systemText}\n</system-reminder>` });
    expect(messages[1]!.content).toEqual([
      { type: 'thinking', thinking: 'run the command', signature: '' },
      { type: 'tool_use', id: 'toolu_2bb385f01043b1a8f19224ac', name: 'Bash', input: { command: 'echo hello-from-tool' } },
    ]);
    expect(messages[2]).toEqual((sentBody.messages as Turn[])[3]);

    expect(res.headers.get('x-llm-proxy-stripped')).toBe(
      'context_management, cache_control.scope, defer_loading, role:system, thinking.signature, redacted_thinking, ' +
        'beta:claude-code-20250219, beta:context-1m-2025-08-07, beta:interleaved-thinking-2025-05-14, beta:thinking-token-count-2026-05-13, ' +
        BETAS_OF_FEATURES.map((beta) => `beta:${beta}`).join(', '),
    );
  });

  it('an upstream that refuses unknown fields with "Extra inputs are not permitted" answers through the proxy (Anthropic SDK)', async () => {
    const options = { headers: claudeCodeHeaders() };
    // Non-streaming with Claude Code's max_tokens is refused by the SDK itself (it could take over 10 minutes).
    const request = { ...claudeCodeTurn(), stream: false, max_tokens: 1024 } as never;
    // What the strict server refuses when sent as is:
    const refused = await px.client.messages.create({ ...(request as Json), model: 'careless/claude-opus-4-8' } as never, options).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(APIError);
    expect((refused as APIError).status).toBe(400);
    expect(JSON.stringify((refused as APIError).error)).toMatch(/Unexpected value\(s\) `claude-code-20250219` for the `anthropic-beta` header/);

    const message = await px.client.messages.create({ ...(request as Json), model: 'strict/claude-opus-4-8' } as never, options);
    expect(message.content).toEqual([{ type: 'text', text: 'strict ok' }]);
    const accepted = strict.received.at(-1)!;
    expect(accepted.headers['anthropic-beta']).toBeUndefined();
    for (const field of ['context_management', 'output_config']) expect(accepted.body).not.toHaveProperty(field);

    // And streamed, as Claude Code asks.
    const streamed = await px.client.messages.stream({ ...(request as Json), stream: true, model: 'strict/claude-opus-4-8' } as never, options).finalMessage();
    expect(streamed.content).toEqual([{ type: 'text', text: 'strict ok' }]);
  });

  it('the strict server refuses each thing the proxy takes out, one after another, when it is sent as is', async () => {
    const noBetas = { ...claudeCodeHeaders(), 'anthropic-beta': '' };
    const refusal = async (body: Json) => parseError((await postMessages(px.url, { ...body, model: 'careless/claude-opus-4-8' }, noBetas)).text).error.message;
    const turn = claudeCodeTurn();
    expect(await refusal(turn)).toMatch(/\): context_management: Extra inputs are not permitted$/);
    delete turn.context_management;
    delete turn.output_config;
    expect(await refusal(turn)).toMatch(/\): system\.1\.cache_control\.scope: Extra inputs are not permitted$/);
    (turn.system as Block[])[1]!.cache_control = { type: 'ephemeral' };
    expect(await refusal(turn)).toMatch(/\): tools\.23\.defer_loading: Extra inputs are not permitted$/);
    delete (turn.tools as Block[])[23]!.defer_loading;
    expect(await refusal(turn)).toMatch(/\): messages\.1\.role: Input should be 'user' or 'assistant'$/);
    turn.messages = (turn.messages as Turn[]).filter((m) => m.role !== 'system');
    expect(await refusal(turn)).toMatch(/\): messages\.1\.content\.1: Input tag 'redacted_thinking' found/);
  });

  it('accepts overrides the preset one feature at a time, and names the betas it lets through', async () => {
    recorder.enqueue({ kind: 'anthropic-stream', events: anthropicTextEvents('done') });
    const res = await postMessages(px.url, { ...claudeCodeTurn(), model: 'tuned/claude-opus-4-8' }, claudeCodeHeaders());
    expect(res.status).toBe(200);
    const sent = recorder.chatRequests[0]!;
    expect((sent.body as Json).context_management).toEqual({ edits: [{ type: 'clear_thinking_20251015', keep: 'all' }] });
    expect((sent.body as Json).output_config).toBeUndefined();
    expect(sent.headers['anthropic-beta']).toBe('claude-code-20250219,context-management-2025-06-27');
  });

  it('sends a request with nothing to remove as it came, without the stripped header', async () => {
    recorder.enqueue({ kind: 'anthropic-stream', events: anthropicTextEvents('done') });
    const plain = { model: 'claude-opus-4-8', max_tokens: 20, stream: true, messages: [{ role: 'user', content: 'hi' }] };
    const res = await postMessages(px.url, plain);
    expect(res.headers.get('x-llm-proxy-stripped')).toBeNull();
    expect(recorder.chatRequests[0]!.rawBody).toBe(JSON.stringify(plain));
  });
});
