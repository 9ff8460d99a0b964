import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { echoProvider } from '../examples/echo-provider/index.js';
import { startProxy } from './support/proxy.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

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
