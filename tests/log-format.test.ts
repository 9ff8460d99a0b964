// The default log format (issue 10 item 3): JSON lines when stderr is not a terminal, pretty text
// when it is. The real `llm-proxy start`, once with stderr a pipe and once inside a real pty
// (util-linux `script`), where `--json-logs` still gives JSON.

import { spawn, spawnSync } from 'node:child_process';
import { stripVTControlCharacters } from 'node:util';
import { describe, expect, it } from 'vitest';
import { MAIN, TSX, ask, cleanup, sandbox, scripted, startProxy, waitUntil, type Sandbox } from './support/cli.js';

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
const CONFIG = { backend: 'main', port: 'auto', backends: { main: scripted('hi') } };

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/** `llm-proxy start` inside a pty: stdin, stdout and stderr are a terminal. Returns what the terminal showed. */
async function startInPty(box: Sandbox, args: string[] = []): Promise<{ output: () => string; stop: () => Promise<void> }> {
  const command = [process.execPath, '--import', TSX, MAIN, 'start', ...args].map(quote).join(' ');
  // Its own process group, so the test stops `script` and the proxy under it by the group's id.
  const child = spawn('script', ['-qfec', command, '/dev/null'], { cwd: box.workspace, env: box.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let text = '';
  child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
    await closed;
  };
  cleanup.push(stop);
  const output = () => stripVTControlCharacters(text).replace(/\r/g, '');
  return { output, stop };
}

describe('log format', () => {
  it('is JSON, one object per line, when stderr is not a terminal', async () => {
    const box = sandbox(CONFIG);
    const proxy = await startProxy(box);
    expect((await ask(proxy.url)).status).toBe(200);
    await waitUntil(() => proxy.stderr().includes('"msg":"messages"'), 'the access line');
    proxy.child.kill('SIGTERM');
    const { stderr } = await proxy.result;
    const lines = stderr.split('\n').filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: expect.any(String), time: expect.any(String), msg: expect.any(String) });
  });

  it.skipIf(!hasScript)('is pretty text in a terminal, and JSON there with --json-logs', async () => {
    const box = sandbox(CONFIG);
    const pretty = await startInPty(box);
    await waitUntil(() => /listening on http:\/\/\S+/.test(pretty.output()), 'the banner', 30_000);
    const url = /listening on (http:\/\/\S+)/.exec(pretty.output())![1]!;
    expect((await ask(url)).status).toBe(200);
    await waitUntil(() => /\d\d:\d\d:\d\d\.\d{3} info {2}messages .*status=200/.test(pretty.output()), 'a pretty access line');
    await pretty.stop();
    expect(pretty.output()).not.toContain('{"level"');

    const json = await startInPty(box, ['--json-logs']);
    await waitUntil(() => /listening on http:\/\/\S+/.test(json.output()), 'the banner', 30_000);
    const jsonUrl = /listening on (http:\/\/\S+)/.exec(json.output())![1]!;
    expect((await ask(jsonUrl)).status).toBe(200);
    await waitUntil(() => /^\{"level":"info".*"msg":"messages"\}$/m.test(json.output()), 'a JSON access line');
    await json.stop();
    expect(json.output()).not.toMatch(/ info {2}messages /);
  });
});
