// `logFile` (issue 10 item 3): every line also appended to a file, always JSON, mode 0600 — also
// when the file already existed wider — and where a relative or `~/` path points.

import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { createProxy } from '../src/proxy.js';
import { mode, tempDir } from './support/cli.js';

const CANNED = { backend: 'canned', backends: { canned: { type: 'scripted' as const, responses: [{ text: 'ok' }] } } };

async function oneRequest(url: string): Promise<void> {
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(res.status).toBe(200);
  await res.text();
}

const jsonLines = (text: string) => text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { level: string; msg: string });

describe('logFile', () => {
  it('is created with mode 0600 (its folder too), and gets every line as JSON while the sink gets pretty text', async () => {
    const dir = tempDir('llm-proxy-logfile-');
    const file = join(dir, 'nested', 'proxy.log');
    const sink: string[] = [];
    const proxy = await createProxy({ ...CANNED, logLevel: 'info', logFormat: 'pretty', logFile: file }, { logSink: (line) => sink.push(line) });
    await proxy.listen(0, '127.0.0.1');
    await oneRequest(proxy.url);
    await proxy.close();
    expect(mode(file)).toBe(0o600);
    expect(mode(join(dir, 'nested'))).toBe(0o700);
    const lines = jsonLines(readFileSync(file, 'utf8'));
    expect(lines.map((line) => line.msg)).toContain('messages');
    expect(lines).toHaveLength(sink.length);
    expect(sink.find((line) => / info {2}messages /.test(stripVTControlCharacters(line))), sink.join('\n')).toBeDefined();
    expect(sink.some((line) => line.startsWith('{'))).toBe(false);
  });

  it('that already existed as 0644 becomes 0600, and keeps what it held', async () => {
    const file = join(tempDir('llm-proxy-logfile-'), 'proxy.log');
    writeFileSync(file, '{"msg":"an earlier run"}\n');
    chmodSync(file, 0o644);
    expect(mode(file)).toBe(0o644);
    const proxy = await createProxy({ ...CANNED, logLevel: 'info', logFile: file }, { logSink: () => undefined });
    expect(mode(file)).toBe(0o600);
    await proxy.listen(0, '127.0.0.1');
    await oneRequest(proxy.url);
    await proxy.close();
    const lines = jsonLines(readFileSync(file, 'utf8'));
    expect(lines[0]?.msg).toBe('an earlier run');
    expect(lines.map((line) => line.msg)).toContain('messages');
    expect(mode(file)).toBe(0o600);
  });

  it('stays the file it was at start-up when a reload names another, and says a restart applies it', async () => {
    const dir = tempDir('llm-proxy-logfile-');
    const first = join(dir, 'first.log');
    const sink: string[] = [];
    const proxy = await createProxy({ ...CANNED, logLevel: 'info', logFormat: 'json', logFile: first }, { logSink: (line) => sink.push(line) });
    await proxy.reload({ ...CANNED, logLevel: 'info', logFile: join(dir, 'second.log') });
    await proxy.close();
    expect(sink.join('\n')).toContain('the new config changes logFile; restart llm-proxy to log to the new file');
    expect(jsonLines(readFileSync(first, 'utf8')).map((line) => line.msg)).toContain('configuration reloaded');
    expect(() => readFileSync(join(dir, 'second.log'))).toThrow(/ENOENT/);
  });

  it('a path that cannot be opened fails at start-up, naming logFile', async () => {
    const dir = tempDir('llm-proxy-logfile-');
    writeFileSync(join(dir, 'a-file'), '');
    await expect(createProxy({ ...CANNED, logFile: join(dir, 'a-file', 'proxy.log') }, { logSink: () => undefined })).rejects.toThrow(/logFile: cannot open the log file/);
  });

  describe('where the path points', () => {
    const savedHome = process.env.HOME;
    afterEach(() => {
      process.env.HOME = savedHome;
    });

    it('a relative path starts at the config file, `~/` at the home directory', async () => {
      const workspace = tempDir('llm-proxy-ws-');
      const home = tempDir('llm-proxy-home-');
      const file = join(workspace, '.llmrc.json');
      writeFileSync(file, JSON.stringify({ ...CANNED, logFile: 'logs/proxy.log' }));
      const relative = await loadConfig({ configFile: file, cwd: home, home, env: {} });
      expect(relative.logFile).toBe(join(workspace, 'logs', 'proxy.log'));

      process.env.HOME = home;
      writeFileSync(file, JSON.stringify({ ...CANNED, logFile: '~/.llm-proxy/proxy.log' }));
      const tilde = await loadConfig({ configFile: file, cwd: workspace, home, env: {} });
      expect(tilde.logFile).toBe(join(home, '.llm-proxy', 'proxy.log'));
    });
  });
});
