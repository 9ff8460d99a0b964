// Issue 7 item 8: library mode as a user's own tests use it, through the public API
// (`createProxy` from the package entry point, the official SDK as the client). A `scripted`
// backend answers its list in order even when the same request repeats (it is not cached unless
// asked), and the proxy logs only warnings and errors unless told otherwise.

import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { createProxy, type Proxy } from '../src/index.js';
import type { UserConfig } from '../src/config/types.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const SAME = { model: 'claude-sonnet-4-5', max_tokens: 100, messages: [{ role: 'user' as const, content: 'the same question' }] };
const RESPONSES = [{ text: 'first' }, { text: 'second' }, { text: 'third' }];

async function withProxy(config: UserConfig, use: (client: Anthropic, logs: string[], proxy: Proxy) => Promise<void>): Promise<void> {
  const logs: string[] = [];
  const proxy = await createProxy(config, { logSink: (line) => logs.push(line) });
  try {
    await proxy.listen(0);
    await use(new Anthropic({ baseURL: proxy.url, apiKey: 'test', maxRetries: 0 }), logs, proxy);
  } finally {
    await proxy.close();
  }
}

const textOf = (message: Anthropic.Message) => message.content.map((block) => (block.type === 'text' ? block.text : block.type)).join('');

describe('library mode: a scripted backend', () => {
  it('answers the same request from its list in order, stream and JSON alike, without the cache', async () => {
    await withProxy({ backend: 'canned', backends: { canned: { type: 'scripted', responses: RESPONSES } } }, async (client) => {
      const first = await client.messages.create(SAME).withResponse();
      expect(textOf(first.data)).toBe('first');
      expect(first.response.headers.get('x-llm-proxy-cache')).toBe('bypass');
      expect(textOf(await client.messages.stream(SAME).finalMessage())).toBe('second');
      expect(textOf(await client.messages.create(SAME))).toBe('third');
      // The last one repeats.
      expect(textOf(await client.messages.stream(SAME).finalMessage())).toBe('third');
    });
  });

  for (const cache of [true, { enabled: true }, { enabled: true, ttlSeconds: 60 }] as const) {
    it(`is cached when asked (cache: ${JSON.stringify(cache)})`, async () => {
      await withProxy({ backend: 'canned', backends: { canned: { type: 'scripted', responses: RESPONSES, cache } } }, async (client) => {
        expect(textOf(await client.messages.create(SAME))).toBe('first');
        const again = await client.messages.create(SAME).withResponse();
        expect(textOf(again.data)).toBe('first');
        expect(again.response.headers.get('x-llm-proxy-cache')).toBe('hit');
      });
    });
  }

  it('a ttlSeconds alone does not turn the cache on for it (enabled follows the backend type)', async () => {
    await withProxy({ backend: 'canned', backends: { canned: { type: 'scripted', responses: RESPONSES, cache: { ttlSeconds: 60 } } } }, async (client) => {
      expect(textOf(await client.messages.create(SAME))).toBe('first');
      expect(textOf(await client.messages.create(SAME))).toBe('second');
    });
  });

  it('other backends in the same proxy keep the cache on by default', async () => {
    // A provider that declares no cache default (here the echo example) is cached, as network backends are.
    const { echoProvider } = await import('../examples/echo-provider/index.js');
    await withProxy(
      { backend: 'echo', backends: { echo: { type: 'echo' }, canned: { type: 'scripted', responses: RESPONSES } }, plugins: [echoProvider()] },
      async (client) => {
        await client.messages.create(SAME);
        const again = await client.messages.create(SAME).withResponse();
        expect(again.response.headers.get('x-llm-proxy-cache')).toBe('hit');
      },
    );
  });
});

describe('library mode: logging', () => {
  it('logs warnings and errors only by default', async () => {
    const config: UserConfig = {
      logFormat: 'json',
      backend: 'canned',
      backends: { canned: { type: 'scripted', responses: [{ text: 'ok' }, { error: { status: 529, type: 'overloaded_error', message: 'scripted overload' } }] } },
    };
    await withProxy(config, async (client, logs) => {
      await client.messages.create(SAME);
      expect(logs).toEqual([]);
      await expect(client.messages.create(SAME)).rejects.toThrow(/scripted overload/);
      expect(logs.join('\n')).toMatch(/scripted overload/);
      expect(logs.map((line) => (JSON.parse(line) as { level: string }).level)).not.toContain('info');
    });
  });

  it('logs at the level asked for with logLevel', async () => {
    await withProxy({ logLevel: 'info', backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: 'ok' }] } } }, async (client, logs) => {
      await client.messages.create(SAME);
      expect(logs.join('\n')).toMatch(/messages/);
    });
  });
});

describe('library mode as documented', () => {
  it("the README's Library mode snippet runs as written, quietly, and answers in order", async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Library mode'));
    const snippet = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(snippet, 'a ts code block under "## Library mode"').toBeTruthy();
    // Beside the examples, so it resolves the package name and the SDK as examples/ does.
    const file = `${root}examples/.readme-library-mode-${process.pid}.ts`;
    writeFileSync(file, snippet!);
    try {
      const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', file], { cwd: root, timeout: 60_000 });
      expect(stdout).toContain('tool_use');
      expect(stdout).toContain('The command printed hi.');
      expect(stdout.indexOf('tool_use')).toBeLessThan(stdout.indexOf('The command printed hi.'));
      expect(stderr).toBe('');
    } finally {
      rmSync(file, { force: true });
    }
  });
});
