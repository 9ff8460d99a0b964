// A long conversation on a backend with a small context window, with the real Claude Code CLI:
// it must end in compaction, not in an error loop. The backend is a vLLM-like server (the proxy
// reads its max_model_len; it counts tokens with Qwen3's real tokenizer and refuses what does not
// fit, as vLLM does). Each turn is a `claude -p --continue` of the same session, until it compacted and one turn after.
//
// What Claude Code 2.1.197 does (its code): with CLAUDE_CODE_AUTO_COMPACT_WINDOW set it compacts
// ahead of time, near the window it knows (CLAUDE_CODE_MAX_CONTEXT_TOKENS, for a model name that
// is not Claude's); without it, it compacts when the API answers "prompt is too long".

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeEnv, sessionOf } from '../src/cli/claude-env.js';
import type { InstanceRecord } from '../src/cli/instances.js';
import { claudeAvailable, claudeResult, runClaude } from './support/claude-cli.js';
import { startFakeInferenceServer, type ChatBody, type FakeInferenceServer } from './support/fake-inference-servers.js';
import { startProxy, type TestProxy } from './support/proxy.js';

const WINDOW = 65_536;
/** Turns go on until a compaction and one turn after it; by this many the conversation has outgrown the window twice. */
const MAX_TURNS = 12;
/** About 6,600 tokens a turn: the conversation outgrows the window after five or six. */
const turn = (n: number) => `Turn ${n}. Answer only "ok". ` + `Note ${n}: the proxy checks each request against the window of the model it goes to before sending it. `.repeat(300);

/** Claude Code's compaction request asks for "a detailed summary of the conversation". */
const isSummaryRequest = (body: ChatBody) => JSON.stringify(body.messages ?? []).includes('summary of the conversation');

describe('Claude Code on a small-window backend compacts instead of failing', () => {
  let gpu: FakeInferenceServer;
  let px: TestProxy;
  beforeAll(async () => {
    expect(claudeAvailable(), 'node_modules/.bin/claude is missing: run npm install').toBe(true);
    gpu = await startFakeInferenceServer({ kind: 'vllm', contextWindow: WINDOW });
    px = await startProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${gpu.url}/v1`, model: gpu.model } } });
  });
  afterAll(async () => {
    await px?.close();
    await gpu?.close();
  });

  /** Runs turns of one session until it compacted (and one turn more); returns what reached the backend and what the proxy refused. */
  async function converse(env: Record<string, string>) {
    const home = mkdtempSync(join(tmpdir(), 'llm-proxy-compaction-'));
    const firstChat = gpu.requestsTo('/v1/chat/completions').length;
    const firstLog = px.logs.length;
    const sent = () => (gpu.requestsTo('/v1/chat/completions') as ChatBody[]).slice(firstChat);
    let compactedAt: number | undefined;
    for (let n = 1; n <= MAX_TURNS && (compactedAt === undefined || n <= compactedAt + 1); n++) {
      const run = await runClaude({ baseUrl: px.url, home, prompt: turn(n), env, extraArgs: n === 1 ? [] : ['--continue'], timeoutMs: 150_000 });
      expect(claudeResult(run), `turn ${n}`).toBe('ok');
      if (compactedAt === undefined && sent().some(isSummaryRequest)) compactedAt = n;
    }
    const chats = sent();
    const refused = px.logs.slice(firstLog).filter((line) => line.includes('"error":"context_window_exceeded"'));
    return { sizes: chats.map((body) => gpu.promptTokens(body)), summaries: chats.filter(isSummaryRequest).length, refused: refused.length };
  }

  it("with `llm-proxy code`'s variables (the window from the proxy's status) it compacts ahead of time: no request is refused", async () => {
    const record: InstanceRecord = { pid: process.pid, url: px.url, port: Number(new URL(px.url).port), host: '127.0.0.1', workspace: tmpdir(), configFile: null, startedAt: new Date().toISOString(), version: 'test' };
    const session = await sessionOf(record, tmpdir());
    expect(session).toEqual({ active: 'gpu', contextWindow: WINDOW });
    const env = claudeEnv(px.url, {}, undefined, session);
    expect(env).toMatchObject({ CLAUDE_CODE_MAX_CONTEXT_TOKENS: String(WINDOW), CLAUDE_CODE_AUTO_COMPACT_WINDOW: String(WINDOW), ANTHROPIC_MODEL: 'anthropic/gpu' });
    const { sizes, summaries, refused } = await converse(env);
    expect(summaries).toBeGreaterThan(0);
    expect(refused).toBe(0);
    for (const size of sizes) expect(size).toBeLessThan(WINDOW);
  });

  // 2.1.197 waits for the refusal; 2.1.332 may compact before one. Either way: a compaction, and never a refusal it did not act on.
  it('with only the base URL it compacts, on the refusal the proxy sends before the backend would cut the prompt, once per refusal', async () => {
    const env = claudeEnv(px.url, {}, undefined, {});
    expect(env.CLAUDE_CODE_AUTO_COMPACT_WINDOW).toBeUndefined();
    const { sizes, summaries, refused } = await converse(env);
    expect(summaries).toBeGreaterThan(0);
    expect(refused).toBeLessThanOrEqual(summaries);
    for (const size of sizes) expect(size).toBeLessThan(WINDOW);
  });
});
