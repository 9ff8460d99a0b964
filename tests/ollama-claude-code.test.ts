import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ollama } from '../plugins/ollama/index.js';
import { claudeAvailable, claudeResult, runClaude } from './support/claude-cli.js';
import { ollamaTextLines, ollamaToolCallLines, startFakeOllama, type FakeOllama } from './support/fake-ollama.js';
import { startProxy, type TestProxy } from './support/proxy.js';

interface OllamaMessage {
  role: string;
  content: string;
  tool_name?: string;
  tool_calls?: Array<{ function: { name: string; arguments: unknown } }>;
}

// The CLI is a devDependency; a missing binary is an install failure, not a reason to skip.
describe('the real Claude Code CLI through the proxy and a fake Ollama (native API)', () => {
  let fake: FakeOllama;
  let px: TestProxy;
  beforeAll(async () => {
    expect(claudeAvailable(), 'node_modules/.bin/claude is missing: run npm install').toBe(true);
    fake = await startFakeOllama();
    px = await startProxy({
      backend: 'ollama',
      plugins: [ollama()],
      backends: { ollama: { type: 'ollama', url: fake.url, model: 'qwen3-coder:30b' } },
    });
  });
  afterAll(async () => {
    await px?.close();
    await fake?.close();
  });

  it('runs a Bash tool call and sends its output back as a role:"tool" message named Bash', async () => {
    fake.enqueue(
      { kind: 'stream', lines: ollamaToolCallLines([{ name: 'Bash', arguments: { command: 'echo hello-from-ollama-tool', description: 'Print a greeting' } }]) },
      { kind: 'stream', lines: ollamaTextLines('The command printed hello-from-ollama-tool.') },
    );
    const run = await runClaude({ baseUrl: px.url, prompt: 'run echo hello-from-ollama-tool with Bash', timeoutMs: 150_000 });
    expect(claudeResult(run)).toContain('The command printed hello-from-ollama-tool.');

    const chats = fake.chatRequests.map((r) => r.body as { messages: OllamaMessage[]; tools?: unknown[]; options: { num_ctx: number } });
    expect(chats.length).toBeGreaterThanOrEqual(2);
    const second = chats[1]!;
    const call = second.messages.find((m) => m.role === 'assistant' && m.tool_calls?.length)!;
    expect(call.tool_calls![0]!.function).toMatchObject({ name: 'Bash', arguments: { command: 'echo hello-from-ollama-tool' } });
    const toolMessage = second.messages.find((m) => m.role === 'tool')!;
    expect(toolMessage.tool_name).toBe('Bash');
    expect(toolMessage.content).toContain('hello-from-ollama-tool');
    expect(second.tools?.length).toBeGreaterThan(10);
    expect(second.options.num_ctx).toBe(65536);
  }, 180_000);
});
