import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeAvailable, runClaude } from './support/claude-cli.js';
import { openaiTextChunks, openaiToolCallChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { startProxy, type TestProxy } from './support/proxy.js';

interface ChatMessage {
  role: string;
  content?: unknown;
  tool_call_id?: string;
  tool_calls?: Array<{ id: string; function: { name: string } }>;
}

// The CLI is a devDependency; a missing binary is an install failure, not a reason to skip.
describe('the real Claude Code CLI through the proxy and an OpenAI-compatible upstream', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    expect(claudeAvailable(), 'node_modules/.bin/claude is missing: run npm install').toBe(true);
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${upstream.url}/v1`, model: 'qwen3-coder:30b' } } });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });

  it('runs a Bash tool call and answers with the tool output', async () => {
    upstream.enqueue(
      { kind: 'openai-stream', chunks: openaiToolCallChunks([{ name: 'Bash', args: { command: 'echo hello-from-tool', description: 'Print a greeting' } }], { fragments: 3 }) },
      { kind: 'openai-stream', chunks: openaiTextChunks('The command printed hello-from-tool.') },
    );
    const run = await runClaude({ baseUrl: px.url, prompt: 'run echo hello-from-tool with Bash', timeoutMs: 150_000 });
    expect(run.code, run.stderr).toBe(0);
    const result = run.json as { result?: string; is_error?: boolean };
    expect(result.is_error).toBe(false);
    expect(result.result).toContain('The command printed hello-from-tool.');

    const chats = upstream.chatRequests.map((r) => r.body as { messages: ChatMessage[]; tools?: unknown[] });
    expect(chats.length).toBeGreaterThanOrEqual(2);
    const second = chats[1]!;
    const call = second.messages.find((m) => m.role === 'assistant' && m.tool_calls?.length)!;
    expect(call.tool_calls![0]!.function.name).toBe('Bash');
    const toolMessage = second.messages.find((m) => m.role === 'tool')!;
    expect(toolMessage.tool_call_id).toBe(call.tool_calls![0]!.id);
    expect(JSON.stringify(toolMessage.content)).toContain('hello-from-tool');
    expect(second.tools?.length).toBeGreaterThan(10);
  }, 180_000);

  it('recovers from a stream cut mid-answer: the proxy ends it with event: error and Claude Code retries', async () => {
    upstream.reset();
    upstream.enqueue(
      { kind: 'openai-stream', chunks: openaiTextChunks('this answer is cut off half way', { pieces: 6 }), cutAfter: 3 },
      { kind: 'openai-stream', chunks: openaiTextChunks('The whole answer, second time.') },
    );
    const run = await runClaude({ baseUrl: px.url, prompt: 'say something long', timeoutMs: 150_000 });
    expect(run.code, run.stderr).toBe(0);
    expect((run.json as { result?: string }).result).toContain('The whole answer, second time.');
    expect(upstream.chatRequests.length).toBe(2);
    expect(px.logs.some((line) => line.includes('upstream_disconnected') || line.includes('"error"'))).toBe(true);
  }, 180_000);

  it('routes --model <backend>/<model> (what /model sets) to that backend and upstream model', async () => {
    upstream.reset();
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('answered by the chosen model') });
    const run = await runClaude({ baseUrl: px.url, prompt: 'which model?', extraArgs: ['--model', 'gpu/qwen3-coder:480b'] });
    expect(run.code, run.stderr).toBe(0);
    expect((run.json as { result?: string }).result).toContain('answered by the chosen model');
    expect((upstream.chatRequests[0]!.body as { model: string }).model).toBe('qwen3-coder:480b');
  }, 180_000);
});
