// While a backend has not answered yet (a model reading a long prompt, a cold GPU), the proxy
// must not hold the parsed request: ~130 KB for a Claude Code turn, for every request waiting.
// Held for seconds, V8 moves it to the old generation, which it collects rarely, and RSS climbs
// with the number of streams. Checked with weak references and a forced full GC.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessagesRequest } from '../src/anthropic/types.js';
import type { Plugin } from '../src/kernel/types.js';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { openaiBackend, startProxy, type TestProxy } from './support/proxy.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const long = 'a line of a long system prompt — with non-ASCII text\n'.repeat(400);
const request = (model: string): MessagesRequest => ({
  model,
  max_tokens: 100,
  stream: true,
  system: [{ type: 'text', text: long }],
  tools: [{ name: 'Bash', description: long, input_schema: { type: 'object', properties: { command: { type: 'string' } } } }],
  messages: [{ role: 'user', content: [{ type: 'text', text: `list the files ${model}` }] }],
});

/** Weak references to the parts of the request the provider is given. */
const given: Array<WeakRef<object>> = [];
const watcher: Plugin = {
  name: 'watcher',
  apply({ hooks }) {
    hooks.transform.tap({ name: 'watcher', stage: 1000 }, (exchange) => {
      if (exchange.phase === 'request') {
        given.length = 0;
        given.push(new WeakRef(exchange.body.messages), new WeakRef(exchange.body.system as object), new WeakRef(exchange.body.tools!));
      }
      return exchange;
    });
  },
};

describe('a request waiting for its backend', () => {
  let openai: FakeUpstream;
  let anthropic: FakeUpstream;
  let ollama: FakeOllama;
  let px: TestProxy;
  beforeAll(async () => {
    openai = await startFakeUpstream();
    openai.setFallback({ kind: 'hang' });
    anthropic = await startFakeUpstream({ format: 'anthropic' });
    anthropic.setFallback({ kind: 'hang' });
    ollama = await startFakeOllama();
    px = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: openaiBackend(openai.url),
        claude: { type: 'anthropic', url: anthropic.url, apiKey: 'sk-test-anthropic' },
        local: { type: 'ollama', url: ollama.url, model: 'qwen3-coder:30b' },
      },
      plugins: [watcher],
    });
  });
  afterAll(async () => {
    await px.close();
    await openai.close();
    await anthropic.close();
    await ollama.close();
  });

  const cases: Array<[string, string, () => number]> = [
    ['an OpenAI-compatible backend', 'claude-sonnet-4-5', () => openai.chatRequests.length],
    ['an Anthropic backend', 'claude/claude-sonnet-4-5', () => anthropic.chatRequests.length],
    ['Ollama (which sends its headers with the first token)', 'local/qwen3-coder:30b', () => ollama.chatRequests.length],
  ];
  for (const [name, model, received] of cases) {
    it(`holds no part of the parsed request: ${name}`, async () => {
      if (name.startsWith('Ollama')) ollama.enqueue({ kind: 'stream', lines: [{ delayMs: 120_000 }] });
      const before = received();
      const client = new AbortController();
      const answer = fetch(`${px.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-llm-proxy-cache': 'no-store' },
        body: JSON.stringify(request(model)),
        signal: client.signal,
      }).catch(() => undefined);
      try {
        await expect.poll(received, { timeout: 10_000 }).toBe(before + 1);
        expect(given).toHaveLength(3);
        await expect
          .poll(
            () => {
              gc();
              return given.filter((ref) => ref.deref() !== undefined).length;
            },
            { timeout: 10_000 },
          )
          .toBe(0);
      } finally {
        client.abort();
        await answer;
      }
    });
  }
});
