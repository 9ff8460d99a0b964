import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { anthropicTextEvents } from '../../../../tests/support/fake-upstream.js';
import { parseSSE, postMessages, startProxy } from '../../../../tests/support/proxy.js';
import { createProxy } from '../../../proxy.js';
import type { ScriptedResponse } from './options.js';
import { ScriptedBackend } from './index.js';

const ask = (content: string) => ({ model: 'claude-opus-4-8', max_tokens: 50, messages: [{ role: 'user' as const, content }] });

describe('scripted-provider: canned answers', () => {
  it('answers in order (text, tool_use, an error with its status), the last one repeating', async () => {
    const responses: ScriptedResponse[] = [
      { text: 'first' },
      { toolUse: { name: 'Bash', input: { command: 'echo hi' } }, text: 'running it' },
      { error: { status: 529, type: 'overloaded_error', message: 'scripted overload' } },
      { text: 'last', stopReason: 'max_tokens' },
    ];
    const px = await startProxy({ backend: 'canned', backends: { canned: { type: 'scripted', model: 'canned-model', responses } } });
    try {
      const first = await px.client.messages.create(ask('one'));
      expect(first.content).toEqual([{ type: 'text', text: 'first' }]);
      expect(first).toMatchObject({ stop_reason: 'end_turn', model: 'canned-model' });
      expect(first.usage.input_tokens).toBeGreaterThan(0);

      const second = await px.client.messages.create(ask('two'));
      expect(second.stop_reason).toBe('tool_use');
      expect(second.content[0]).toEqual({ type: 'text', text: 'running it' });
      expect(second.content[1]).toMatchObject({ type: 'tool_use', name: 'Bash', input: { command: 'echo hi' } });
      expect((second.content[1] as Anthropic.ToolUseBlock).id).toMatch(/^toolu_/);

      const third = await postMessages(px.url, ask('three'));
      expect(third.status).toBe(529);
      const error = JSON.parse(third.text) as { type: string; error: { type: string; message: string } };
      expect(error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
      expect(error.error.message).toMatch(/scripted overload/);

      const fourth = await px.client.messages.create(ask('four'));
      expect(fourth.content).toEqual([{ type: 'text', text: 'last' }]);
      expect(fourth.stop_reason).toBe('max_tokens');
      // The last one repeats, streamed as well.
      const fifth = await px.client.messages.stream(ask('five')).finalMessage();
      expect(fifth.content).toEqual([{ type: 'text', text: 'last' }]);

      const backend = px.proxy.kernel.backends.get('canned');
      expect(backend).toBeInstanceOf(ScriptedBackend);
      expect((backend as ScriptedBackend).requests.map((r) => r.messages[0]!.content)).toEqual(['one', 'two', 'three', 'four', 'five']);
    } finally {
      await px.close();
    }
  });

  it('streams `events` as given, and the SDK sees an `error` response as an APIError with that status', async () => {
    const events = anthropicTextEvents('from events', { pieces: 3 });
    const px = await startProxy({
      backend: 'canned',
      backends: { canned: { type: 'scripted', responses: [{ events }, { error: { status: 429, type: 'rate_limit_error', message: 'slow down' } }] } },
    });
    try {
      const streamed = await postMessages(px.url, { ...ask('go'), stream: true });
      expect(streamed.status).toBe(200);
      // As given (the proxy may add pings of its own while a stream is silent).
      const sent = parseSSE(streamed.text).filter((e) => e.event !== 'ping');
      expect(sent.map((e) => e.data)).toEqual(events.filter((e) => e.type !== 'ping'));
      const failure = await px.client.messages.create(ask('again')).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(Anthropic.APIError);
      expect((failure as InstanceType<typeof Anthropic.APIError>).status).toBe(429);
      expect(String(failure)).toMatch(/slow down/);
    } finally {
      await px.close();
    }
  });

  it('is always ok in /health and describes how many responses it has', async () => {
    const px = await startProxy({ backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: 'a' }, { text: 'b' }] } } });
    try {
      const report = (await (await fetch(`${px.url}/health`)).json()) as { backends: Record<string, unknown> };
      expect(report.backends.canned).toMatchObject({ status: 'ok', latencyMs: 0, type: 'scripted' });
      expect(px.proxy.kernel.backends.get('canned')!.describe()).toEqual({ type: 'scripted', responses: 2 });
    } finally {
      await px.close();
    }
  });

  it('refuses an empty responses list, naming the field', async () => {
    await expect(createProxy({ backend: 'c', backends: { c: { type: 'scripted', responses: [] } }, logLevel: 'silent' })).rejects.toThrow(
      /backends\.c\.responses.*at least one response/,
    );
  });
});
