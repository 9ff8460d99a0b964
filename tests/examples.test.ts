import Anthropic from '@anthropic-ai/sdk';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { echoProvider } from '../examples/echo-provider/index.js';
import { spawnCli, startCli, stopCli } from './support/cli-run.js';
import { readableLog } from './support/readable-log.js';
import { startProxy } from './support/proxy.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const echoConfig = join(root, 'examples/echo-provider/llm-proxy.config.ts');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A home and a workspace of their own, and an environment without the developer's proxy settings. */
function cliSandbox(): { home: string; workspace: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), 'llm-proxy-home-'));
  const workspace = mkdtempSync(join(tmpdir(), 'llm-proxy-ws-'));
  dirs.push(home, workspace);
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, LLM_PROXY_HOME: home, NO_COLOR: '1' };
  for (const name of Object.keys(env)) if (/^(LLM_PROXY_(?!HOME)|LLM_BACKEND|ANTHROPIC_)/.test(name)) delete env[name];
  return { home, workspace, env };
}

describe('examples', () => {
  it('the echo provider plugin registers a backend type that answers through the kernel', async () => {
    const px = await startProxy({ backend: 'echo', backends: { echo: { type: 'echo', model: 'echo-1' } }, plugins: [echoProvider({ prefix: '> ' })] });
    try {
      const streamed = await px.client.messages
        .stream({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'repeat me' }] })
        .finalMessage();
      expect(streamed.content).toEqual([{ type: 'text', text: '> repeat me' }]);
      expect(streamed.model).toBe('echo-1');
    } finally {
      await px.close();
    }
  });

  it('the echo provider validates its options at start-up', () => {
    expect(() => echoProvider({ prefix: 42 as unknown as string })).toThrow(/prefix/);
  });

  it('the echo provider runs from its own config file under `llm-proxy start`, importing only the plugin surface', async () => {
    const { workspace, env } = cliSandbox();
    const proxy = await startCli(['--config', echoConfig], { cwd: workspace, env });
    try {
      const client = new Anthropic({ baseURL: proxy.url, apiKey: 'client', maxRetries: 0 });
      const answer = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hello file' }] });
      expect(answer.content).toEqual([{ type: 'text', text: 'echo: hello file' }]);
      expect(answer.model).toBe('echo-1');
    } finally {
      const result = await stopCli(proxy);
      expect(result.stderr).not.toMatch(/warning|error/i);
    }
  });

  it("checks an echo backend against the provider's schema: a typo is a warning naming the file, a bad value stops the start", async () => {
    const { workspace, env } = cliSandbox();
    const config = (backend: string) =>
      `import { defineConfig } from '@jleechan/llm-proxy-server';\n` +
      `import { echoProvider } from ${JSON.stringify(join(root, 'examples/echo-provider/index.ts'))};\n` +
      `export default defineConfig({ backend: 'e', port: 'auto', backends: { e: ${backend} as never }, plugins: [echoProvider()] });\n`;
    const file = join(workspace, 'llm-proxy.config.ts');

    writeFileSync(file, config(`{ type: 'echo', prefx: '> ' }`));
    const proxy = await startCli([], { cwd: workspace, env });
    const client = new Anthropic({ baseURL: proxy.url, apiKey: 'client', maxRetries: 0 });
    const answer = await client.messages.create({ model: 'm', max_tokens: 20, messages: [{ role: 'user', content: 'plain' }] });
    expect(answer.content).toEqual([{ type: 'text', text: 'plain' }]);
    const stopped = await stopCli(proxy);
    expect(readableLog(stopped.stderr)).toContain(`${file}: unknown key "backends.e.prefx" ignored; did you mean "prefix"?`);

    writeFileSync(file, config(`{ type: 'echo', prefix: 42 }`));
    const failed = await spawnCli(['start'], { cwd: workspace, env }).result;
    expect(failed.code).not.toBe(0);
    expect(failed.stderr).toContain(`${file}: backends.e.prefix: `);
    expect(failed.stderr).not.toMatch(/\n\s+at /);
  });

  it('library-mode.ts runs as documented', async () => {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'examples/library-mode.ts'], { cwd: root, timeout: 60_000 });
    expect(stdout).toContain('tool_use');
    expect(stdout).toContain("name: 'Bash'");
    // The second request is the same as the first: the scripted list, not the cache, answers it.
    expect(stdout).toContain('The command printed hi.');
    // Library mode logs warnings and errors only.
    expect(stderr).toBe('');
  });
});
