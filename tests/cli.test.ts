// The `llm-proxy` CLI as users run it: a separate node process (through tsx), a temp home
// (LLM_PROXY_HOME) and a temp workspace as the current directory (helpers in support/cli.ts).

import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { VERSION } from '../src/version.js';
import { claudeMissing, claudeBinDir } from './support/claude-cli.js';
import { COMMANDS, SECRET, TWO_BACKENDS, ask, cleanup, mode, run, sandbox, scripted, startProxy, statusJson, tempDir, waitUntil } from './support/cli.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';

describe('llm-proxy --version and --help', () => {
  it('prints the version', async () => {
    const box = sandbox();
    const result = await run(box, ['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(VERSION);
  });

  it('lists the commands, and each command has its own help', async () => {
    const box = sandbox();
    const top = await run(box, ['--help']);
    expect(top.code).toBe(0);
    for (const command of COMMANDS) expect(top.stdout).toContain(command);

    const start = await run(box, ['start', '--help']);
    expect(start.code).toBe(0);
    expect(start.stdout).toMatch(/--port <port>/);
    expect(start.stdout).toMatch(/--workspace <dir>/);

    const status = await run(box, ['status', '--help']);
    expect(status.stdout).toMatch(/Exit status/);
  });

  it("every command's --help says what it does, and the README's CLI table lists every option", async () => {
    const box = sandbox();
    const top = (await run(box, ['--help'])).stdout;
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## CLI'), readme.indexOf('\n## ', readme.indexOf('## CLI') + 1));
    for (const command of COMMANDS) {
      // The top-level list: "  start   Run the proxy in the foreground ...".
      const description = new RegExp(`^  ${command}\\b[^\\n]*?  +(\\S[^\\n]*)$`, 'm').exec(top)?.[1]?.trim();
      expect(description, `${command} in the command list`).toBeTruthy();
      const help = await run(box, [command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout, `${command} --help`).toContain(description);
      const row = table.split('\n').find((line) => line.startsWith(`| \`llm-proxy ${command}`));
      expect(row, `README row for ${command}`).toBeDefined();
      const options = [...help.stdout.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]).filter((o) => o !== '--help');
      expect(options.length, `${command} has options`).toBeGreaterThan(0);
      for (const option of options) expect(row, `README row for ${command} lists ${option}`).toContain(option);
    }
  });

  it('rejects an unknown command with exit code 2', async () => {
    const box = sandbox();
    const result = await run(box, ['frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });
});

describe('llm-proxy setup', () => {
  it('writes a 0600 llm-proxy.config.ts that loads without llm-proxy installed, and refuses to overwrite it', async () => {
    const box = sandbox();
    const file = join(box.workspace, 'llm-proxy.config.ts');

    const first = await run(box, ['setup']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toContain(file);
    expect(first.stdout).toContain('CEREBRAS_API_KEY');
    expect(first.stdout).toContain('llm-proxy start');
    expect(mode(file)).toBe(0o600);
    const template = readFileSync(file, 'utf8');
    expect(template).toContain("'${CEREBRAS_API_KEY}'");
    expect(template).toContain("import { defineConfig } from '@jleechan/llm-proxy-server'");

    const config = await loadConfig({ cwd: box.workspace, home: box.home, env: { CEREBRAS_API_KEY: 'k-1234' }, onWarning: () => undefined });
    expect(config.backend).toBe('cerebras');
    expect(Object.keys(config.backends).sort()).toEqual(['cerebras', 'ollama']);
    expect(config.filepath).toBe(file);

    writeFileSync(file, '// mine\n');
    const second = await run(box, ['setup']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(file);
    expect(second.stderr).toContain('--force');
    expect(readFileSync(file, 'utf8')).toBe('// mine\n');

    chmodSync(file, 0o644);
    const forced = await run(box, ['setup', '--force']);
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(template);
    expect(mode(file)).toBe(0o600);
  });

  it('--global writes <home>/.llm-proxy/config.json', async () => {
    const box = sandbox();
    const result = await run(box, ['setup', '--global']);
    expect(result.code, result.stderr).toBe(0);
    const file = join(box.home, '.llm-proxy', 'config.json');
    expect(mode(file)).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ backend: 'ollama', backends: { ollama: { type: 'ollama' } } });
    expect((await run(box, ['setup', '--global'])).code).toBe(1);
  });
});

describe('llm-proxy start / status / switch / env / stop', () => {
  it('runs a proxy that the other commands find, switch and stop', async () => {
    const box = sandbox(TWO_BACKENDS);
    const proxy = await startProxy(box);
    expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(proxy.stdout()).toContain(`llm-proxy ${VERSION} listening on ${proxy.url}`);
    expect(proxy.stdout()).toContain(join(box.workspace, '.llmrc.json'));

    const instanceFile = join(box.home, '.llm-proxy', 'instances', `${proxy.child.pid}.json`);
    expect(mode(instanceFile)).toBe(0o600);
    expect(JSON.parse(readFileSync(instanceFile, 'utf8'))).toMatchObject({
      pid: proxy.child.pid,
      url: proxy.url,
      workspace: box.workspace,
      version: VERSION,
    });

    const status = await run(box, ['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    const [entry, ...more] = JSON.parse(status.stdout) as Array<{
      url: string;
      active: string;
      backends: Array<{ name: string; type: string; health: string }>;
    }>;
    expect(more).toEqual([]);
    expect(entry?.url).toBe(proxy.url);
    expect(entry?.active).toBe('main');
    expect(entry?.backends.find((b) => b.name === 'main')).toMatchObject({ type: 'scripted', health: 'ok' });
    expect(entry?.backends.map((b) => b.name).sort()).toEqual(['cloud', 'main', 'other']);

    const human = await run(box, ['status']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(proxy.url);
    expect(human.stdout).toMatch(/✓ main/);

    const answer = await ask(proxy.url);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ content: [{ type: 'text', text: 'hi' }] });
    // The CLI logs every request at info (library mode defaults to warn).
    for (const deadline = Date.now() + 10_000; !/info.*messages/.test(proxy.stderr()) && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(proxy.stderr()).toMatch(/info.*messages/);

    const switched = await run(box, ['switch', 'other']);
    expect(switched.code, switched.stderr).toBe(0);
    expect(switched.stdout).toMatch(/main -> other/);
    expect(JSON.parse((await ask(proxy.url)).text)).toMatchObject({ content: [{ text: 'from other' }] });

    const unknown = await run(box, ['switch', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nope');
    expect(unknown.stderr).toMatch(/main, other, cloud/);
    expect(unknown.stderr).not.toMatch(/\n\s+at /);

    const env = await run(box, ['env', '--shell', 'sh']);
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toContain(`export ANTHROPIC_BASE_URL='${proxy.url}'`);
    expect(env.stdout).toContain("export ANTHROPIC_AUTH_TOKEN='llm-proxy'");
    const fish = await run(box, ['env', '--shell', 'fish']);
    expect(fish.stdout).toContain(`set -gx ANTHROPIC_BASE_URL '${proxy.url}'`);

    const stopped = await run(box, ['stop']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toContain(`stopped ${proxy.url}`);
    const exited = await proxy.result;
    expect(exited.code).toBe(0);
    expect(exited.stderr).toContain('shutting down');
    expect(existsSync(instanceFile)).toBe(false);

    const after = await run(box, ['status']);
    expect(after.code).toBe(1);
    expect(after.stdout).toContain('no llm-proxy is running');

    for (const output of [exited.stdout, exited.stderr, status.stdout, human.stdout, env.stdout]) expect(output).not.toContain(SECRET);
  });

  it('runs on the embedded default without any config, and says how to make one', async () => {
    const box = sandbox();
    const proxy = await startProxy(box, ['--port', 'auto']);
    expect(proxy.stdout()).toContain('no config file found');
    expect(proxy.stdout()).toContain('llm-proxy setup');
    expect(proxy.stdout()).toContain('http://127.0.0.1:11434');
    proxy.child.kill('SIGINT');
    expect((await proxy.result).code).toBe(0);
  });

  it('finishes an open request when stopped with SIGTERM', async () => {
    const fake: FakeUpstream = await startFakeUpstream({ format: 'openai' });
    cleanup.push(() => fake.close());
    fake.enqueue({ kind: 'delay', ms: 1_500, then: { kind: 'openai-stream', chunks: openaiTextChunks('slow answer') } });
    const box = sandbox({ port: 'auto', backends: { gpu: { type: 'openai', url: `${fake.url}/v1`, model: 'qwen3-coder:30b' } } });
    const proxy = await startProxy(box);

    const pending = ask(proxy.url);
    await fake.waitForRequests(1, { endpoint: 'chat' });
    proxy.child.kill('SIGTERM');
    const answer = await pending;
    expect(answer.status).toBe(200);
    expect(answer.text).toContain('slow answer');
    expect((await proxy.result).code).toBe(0);
  });

  it('refuses to listen on 0.0.0.0 without client keys, with a readable message', async () => {
    const box = sandbox({ host: '0.0.0.0', port: 'auto', backends: { main: scripted('hi') } });
    const result = await run(box, ['start']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/refusing to listen on 0\.0\.0\.0/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    // Its "starting" record is gone with it.
    const instances = join(box.home, '.llm-proxy', 'instances');
    expect(existsSync(instances) ? readdirSync(instances) : []).toEqual([]);
  });

  it('reports a broken config file by name, without a stack trace', async () => {
    const box = sandbox();
    writeFileSync(join(box.workspace, '.llmrc.json'), '{ "backend": ');
    const result = await run(box, ['start']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(join(box.workspace, '.llmrc.json'));
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('never prints a backend API key', async () => {
    const box = sandbox({ backend: 'cloud', port: 'auto', backends: { cloud: { type: 'cerebras', apiKey: SECRET, apiUrl: 'http://127.0.0.1:9/v1' } } });
    // As after `eval "$(llm-proxy env)"`: the placeholder token must not be masked in paths naming llm-proxy.
    box.env.ANTHROPIC_AUTH_TOKEN = 'llm-proxy';
    const proxy = await startProxy(box, ['--log-level', 'debug']);
    const status = await run(box, ['status', '--json']);
    expect(status.stdout).toContain(box.workspace);
    const human = await run(box, ['status']);
    const env = await run(box, ['env']);
    proxy.child.kill('SIGTERM');
    const exited = await proxy.result;
    for (const output of [status.stdout, status.stderr, human.stdout, env.stdout, exited.stdout, exited.stderr]) {
      expect(output).not.toContain(SECRET);
    }
    expect(status.stdout).toContain('"apiKey": "set"');
  });

  it('talks to a proxy that requires client keys, using the key from its config', async () => {
    const box = sandbox({ port: 'auto', backends: { main: scripted('hi'), other: scripted('b') }, auth: { keys: ['client-key-XYZ'] } });
    const proxy = await startProxy(box);
    expect((await ask(proxy.url)).status).toBe(401);
    const status = await run(box, ['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject([{ reachable: true, active: 'main' }]);
    const switched = await run(box, ['switch', 'other']);
    expect(switched.code, switched.stderr).toBe(0);
    const env = await run(box, ['env']);
    expect(env.stdout).not.toContain('client-key-XYZ');
    for (const output of [status.stdout, switched.stdout, proxy.stdout(), proxy.stderr()]) expect(output).not.toContain('client-key-XYZ');
  });

  it('says so when nothing runs: status exits 1, stop exits 0, switch exits 1', async () => {
    const box = sandbox(TWO_BACKENDS);
    const status = await run(box, ['status']);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain('no llm-proxy is running');
    expect(status.stderr).toContain('llm-proxy start');
    expect((await run(box, ['stop'])).code).toBe(0);
    const switched = await run(box, ['switch', 'other']);
    expect(switched.code).toBe(1);
    expect(switched.stderr).toContain('no llm-proxy is running');
  });

  it('env uses the configured port when no proxy runs, and does not print client keys', async () => {
    const box = sandbox({ port: 8123, backends: { main: scripted('hi') }, auth: { keys: ['client-key-XYZ'] } });
    const result = await run(box, ['env', '--shell', 'powershell']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("$env:ANTHROPIC_BASE_URL = 'http://127.0.0.1:8123'");
    expect(result.stdout).toContain('ANTHROPIC_AUTH_TOKEN to one of');
    expect(result.stdout).not.toContain('client-key-XYZ');
  });
});

describe('llm-proxy status', () => {
  it('counts uptime from the process start, across config reloads', async () => {
    const box = sandbox({ backend: 'main', port: 'auto', backends: { main: scripted('before') } });
    const proxy = await startProxy(box);
    let before = 0;
    await waitUntil(async () => {
      before = (await statusJson(box)).entries[0]?.uptimeSeconds ?? 0;
      // Well above the time a reload and one `status` take, so a count restarted by the reload shows.
      return before >= 4;
    }, 'an uptime of 4 s');
    writeFileSync(join(box.workspace, '.llmrc.json'), JSON.stringify({ backend: 'main', port: 'auto', backends: { main: scripted('after') } }));
    await waitUntil(() => proxy.stderr().includes('configuration reloaded'), 'the reload');
    const after = (await statusJson(box)).entries[0]?.uptimeSeconds ?? 0;
    expect(after).toBeGreaterThanOrEqual(before);
  });

  it('shows a legend for its marks', async () => {
    const box = sandbox({ port: 'auto', backends: { main: scripted('hi') } });
    await startProxy(box);
    const human = await run(box, ['status']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/legend: ✓ ok {2}! degraded[^\n]* {2}\? unknown {2}✗ down/);
  });

  it('exits 4 when the active backend is down, 3 when a recorded proxy does not answer', async () => {
    const closed = await startFakeUpstream({ format: 'openai' });
    const deadUrl = closed.url;
    await closed.close();
    const box = sandbox({ backend: 'gpu', port: 'auto', backends: { gpu: { type: 'openai', url: `${deadUrl}/v1` }, spare: scripted('hi') } });
    const proxy = await startProxy(box);
    const down = await run(box, ['status']);
    expect(down.code, down.stdout).toBe(4);
    expect(down.stdout).toMatch(/✗ gpu/);
    expect(down.stderr).toContain('llm-proxy switch');
    expect((await statusJson(box)).code).toBe(4);

    // Switching to a healthy backend makes it 0 again.
    expect((await run(box, ['switch', 'spare'])).code).toBe(0);
    expect((await run(box, ['status'])).code).toBe(0);

    // A record of a live process (this test's) that serves nothing: not answering.
    const record = { pid: process.pid, url: deadUrl, port: Number(new URL(deadUrl).port), host: '127.0.0.1', workspace: '/elsewhere', configFile: null, startedAt: new Date().toISOString(), version: VERSION };
    writeFileSync(join(box.home, '.llm-proxy', 'instances', `${process.pid}.json`), JSON.stringify(record));
    const unreachable = await run(box, ['status']);
    expect(unreachable.code, unreachable.stdout).toBe(3);
    expect(unreachable.stdout).toContain(proxy.url);
    expect(unreachable.stdout).toContain(deadUrl);
  });
});

describe('llm-proxy code', () => {
  function fakeClaude(): { bin: string; report: string } {
    const bin = tempDir('llm-proxy-bin-');
    const report = join(bin, 'report.json');
    const script = [
      `#!${process.execPath}`,
      "const { writeFileSync } = require('node:fs');",
      'const env = process.env;',
      `writeFileSync(${JSON.stringify(report)}, JSON.stringify({ url: env.ANTHROPIC_BASE_URL, token: env.ANTHROPIC_AUTH_TOKEN, apiKey: env.ANTHROPIC_API_KEY ?? null, args: process.argv.slice(2) }));`,
      // Prove the proxy answers while claude runs.
      "fetch(env.ANTHROPIC_BASE_URL + '/v1/messages', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'x', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }) })",
      "  .then((r) => r.json()).then((body) => { console.log('answer:', body.content[0].text); process.exit(3); }, (e) => { console.error(e); process.exit(9); });",
    ].join('\n');
    const file = join(bin, 'claude');
    writeFileSync(file, script, { mode: 0o755 });
    return { bin, report };
  }

  it('starts a proxy for the session, runs claude through it with the arguments, and exits with its code', async () => {
    const box = sandbox(TWO_BACKENDS);
    const { bin, report } = fakeClaude();
    const env = { ...box.env, PATH: `${bin}${delimiter}${box.env.PATH ?? ''}`, ANTHROPIC_API_KEY: 'sk-ant-real' };
    const result = await run(box, ['code', '--', '-p', 'hello'], env);
    expect(result.code, result.stderr).toBe(3);
    expect(result.stdout).toContain('answer: hi');
    const seen = JSON.parse(readFileSync(report, 'utf8')) as { url: string; token: string; apiKey: string | null; args: string[] };
    expect(seen.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(result.stderr).toContain(seen.url);
    expect(seen.args).toEqual(['-p', 'hello']);
    expect(seen.token).toBe('llm-proxy');
    expect(seen.apiKey).toBeNull();
    // The session's proxy is gone afterwards.
    const status = await run(box, ['status']);
    expect(status.code).toBe(1);
  });

  it('passes arguments through without `--` too, and uses a running proxy', async () => {
    const box = sandbox(TWO_BACKENDS);
    const proxy = await startProxy(box);
    const { bin, report } = fakeClaude();
    const env = { ...box.env, PATH: `${bin}${delimiter}${box.env.PATH ?? ''}` };
    const result = await run(box, ['code', '-p', 'hello', '--verbose'], env);
    expect(result.code, result.stderr).toBe(3);
    const seen = JSON.parse(readFileSync(report, 'utf8')) as { url: string; args: string[] };
    expect(seen.url).toBe(proxy.url);
    expect(seen.args).toEqual(['-p', 'hello', '--verbose']);
    expect(proxy.child.exitCode).toBeNull();
  });

  it('says how to install Claude Code when it is missing', async () => {
    const box = sandbox(TWO_BACKENDS);
    const empty = tempDir('llm-proxy-nobin-');
    const result = await run(box, ['code'], { ...box.env, PATH: empty });
    expect(result.code).toBe(127);
    expect(result.stderr).toContain('npm install -g @anthropic-ai/claude-code');
  });

  it.skipIf(claudeMissing)('runs the real Claude Code through the proxy', { timeout: 150_000 }, async () => {
    const box = sandbox({ port: 'auto', backends: { main: scripted('pong') } });
    const claudeHome = tempDir('llm-proxy-claude-home-');
    const env: NodeJS.ProcessEnv = {
      ...box.env,
      PATH: `${claudeBinDir}${delimiter}${box.env.PATH ?? ''}`,
      HOME: claudeHome,
      IS_SANDBOX: '1',
      DISABLE_AUTOUPDATER: '1',
    };
    for (const name of Object.keys(env)) if (name.startsWith('CLAUDE')) delete env[name];
    const result = await run(box, ['code', '--', '-p', 'say pong', '--output-format', 'json', '--dangerously-skip-permissions'], env);
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ type: 'result', is_error: false });
    expect((JSON.parse(result.stdout) as { result: string }).result).toContain('pong');
  });
});

describe('llm-proxy start watches its config file', () => {
  it('applies a valid edit without a restart and keeps the running config on an invalid one', async () => {
    const box = sandbox({ backend: 'main', port: 'auto', backends: { main: scripted('before the edit') } });
    const started = await startProxy(box);
    expect(JSON.parse((await ask(started.url)).text).content[0].text).toBe('before the edit');

    const file = join(box.workspace, '.llmrc.json');
    writeFileSync(file, JSON.stringify({ backend: 'main', port: 'auto', backends: { main: scripted('after the edit') } }));
    await waitUntil(async () => (await ask(started.url)).text.includes('after the edit'), 'the edit to apply');

    writeFileSync(file, '{"backend": "main", "backends": {');
    await waitUntil(async () => started.stderr().includes('config edit not applied'), 'the rejection message');
    expect(started.stderr()).toMatch(/\.llmrc\.json/);
    expect(JSON.parse((await ask(started.url)).text).content[0].text).toBe('after the edit');
  });
});
