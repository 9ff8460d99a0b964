// `port: "auto"` is this workspace's port on every start, and `llm-proxy env` points Claude Code
// at this workspace's proxy: it waits for one that is starting, never passes another
// workspace's off as this one's, speaks every shell, and exports what Claude Code needs.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTO_PORT_RANGE, derivedPort, recordPort } from '../src/cli/workspace-port.js';
import { claudeMissing, claudeBinDir, runClaude } from './support/claude-cli.js';
import { MAIN, TSX, cleanup, collect, mode, run, sandbox, scripted, spawnCli, startProxy, tempDir, waitUntil, type Sandbox } from './support/cli.js';
import { anthropicTextEvents, startFakeUpstream } from './support/fake-upstream.js';
import { freePort } from './support/free-port.js';

const AUTO = { port: 'auto', backends: { main: scripted('hi') } };

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  cleanup.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return (server.address() as AddressInfo).port;
}

const portOf = (url: string) => Number(new URL(url).port);

async function stopProxy(box: Sandbox): Promise<void> {
  const stopped = await run(box, ['stop']);
  expect(stopped.code, stopped.stderr).toBe(0);
}

const exportsOf = (stdout: string) => Object.fromEntries([...stdout.matchAll(/^export (\w+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));

describe('port: "auto"', () => {
  it("is this workspace's port, derived from its path, the same after a restart, and recorded (0600)", async () => {
    const box = sandbox(AUTO);
    const first = await startProxy(box);
    const port = portOf(first.url);
    expect(port).toBe(derivedPort(box.workspace));
    expect(port).toBeGreaterThanOrEqual(AUTO_PORT_RANGE.first);
    expect(port).toBeLessThanOrEqual(AUTO_PORT_RANGE.last);
    const portsDir = join(box.home, '.llm-proxy', 'ports');
    const [record, ...more] = readdirSync(portsDir);
    expect(more).toEqual([]);
    expect(mode(join(portsDir, record!))).toBe(0o600);
    expect(JSON.parse(readFileSync(join(portsDir, record!), 'utf8'))).toMatchObject({ workspace: box.workspace, port });
    await stopProxy(box);

    const second = await startProxy(box);
    expect(second.url).toBe(first.url);
  });

  it('takes the next free port when its own is taken, and keeps that one on the next start', async () => {
    const box = sandbox(AUTO);
    const blocker = createServer();
    const derived = await listen(blocker, derivedPort(box.workspace));
    const first = await startProxy(box);
    expect(portOf(first.url)).not.toBe(derived);
    await stopProxy(box);
    // Even with the derived port free again, the recorded one is used: sessions keep their URL.
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const second = await startProxy(box);
    expect(second.url).toBe(first.url);
  });

  it('does not take a port recorded for another workspace that is stopped', async () => {
    const box = sandbox(AUTO);
    // Another workspace, stopped now, had this workspace's derived port: it stays that one's.
    await recordPort(box.home, '/some/other/workspace', derivedPort(box.workspace));
    const proxy = await startProxy(box);
    expect(portOf(proxy.url)).not.toBe(derivedPort(box.workspace));
    expect(portOf(proxy.url)).toBeGreaterThanOrEqual(AUTO_PORT_RANGE.first);
  });
});

describe('llm-proxy env', () => {
  it('right after `llm-proxy start &`, waits for the proxy that is still starting', async () => {
    // An Ollama that holds the model check (done while the proxy starts) until released.
    const held: ServerResponse[] = [];
    const ollama = createServer((req, res) => {
      if (req.url === '/api/tags') held.push(res);
      else res.writeHead(404).end();
    });
    const ollamaPort = await listen(ollama);
    const box = sandbox({ port: 'auto', backends: { local: { type: 'ollama', url: `http://127.0.0.1:${ollamaPort}`, model: 'm' } } });
    const start = spawnCli(box, ['start']);
    const started = collect(start);
    cleanup.push(async () => {
      start.kill('SIGKILL');
      await started.result;
    });
    await waitUntil(() => held.length > 0, 'the proxy to check its model (it is starting)');

    const env = collect(spawnCli(box, ['env', '--shell', 'sh']));
    await waitUntil(() => env.stderr().includes('waiting for the proxy starting'), 'env to wait');
    for (const res of held) res.writeHead(200, { 'content-type': 'application/json' }).end('{"models":[]}');
    const result = await env.result;
    expect(result.code, result.stderr).toBe(0);
    await waitUntil(() => /listening on (http:\S+)/.test(started.stdout()), 'the proxy to listen');
    const url = /listening on (http:\S+)/.exec(started.stdout())![1];
    expect(exportsOf(result.stdout).ANTHROPIC_BASE_URL).toBe(url);
  });

  it("prints this workspace's recorded port while its proxy is stopped", async () => {
    const box = sandbox(AUTO);
    const proxy = await startProxy(box);
    await stopProxy(box);
    const result = await run(box, ['env']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('not running yet');
    expect(exportsOf(result.stdout).ANTHROPIC_BASE_URL).toBe(proxy.url);
  });

  it("refuses a fixed port held by another workspace's proxy with another config, and says whose", async () => {
    const port = await freePort();
    const a = sandbox({ port, backends: { main: scripted('from a') } });
    const proxyA = await startProxy(a);
    const b = { ...sandbox({ port, backends: { other: scripted('from b') } }), home: a.home, env: { ...a.env } };
    const result = await run(b, ['env']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`port ${port}`);
    expect(result.stderr).toContain(a.workspace);
    expect(result.stderr).toContain(`llm-proxy env --port ${port}`);
    // Asked for explicitly, it is fine.
    const explicit = await run(b, ['env', '--port', String(port)]);
    expect(exportsOf(explicit.stdout).ANTHROPIC_BASE_URL).toBe(proxyA.url);
  });

  it("says so when only another workspace's proxy runs", async () => {
    const a = sandbox(AUTO);
    const proxyA = await startProxy(a);
    const b = { ...sandbox(AUTO), home: a.home, env: { ...a.env } };
    const result = await run(b, ['env']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`no llm-proxy is running for ${b.workspace}`);
    expect(result.stderr).toContain(`running for another workspace: ${proxyA.url}`);
    expect(result.stderr).toContain(a.workspace);
  });

  it("shares another workspace's proxy that runs the same config, and says so", async () => {
    const port = await freePort();
    const a = sandbox();
    mkdirSync(join(a.home, '.llm-proxy'), { recursive: true });
    writeFileSync(join(a.home, '.llm-proxy', 'config.json'), JSON.stringify({ port, backends: { main: scripted('hi') } }));
    const proxyA = await startProxy(a);
    const b = { ...sandbox(), home: a.home, env: { ...a.env } };
    const result = await run(b, ['env']);
    expect(result.code, result.stderr).toBe(0);
    expect(exportsOf(result.stdout).ANTHROPIC_BASE_URL).toBe(proxyA.url);
    expect(result.stdout).toContain(`started for ${a.workspace}, with the same config as this workspace`);
  });

  it('speaks sh, bash, zsh (also picked from $SHELL), fish and powershell', async () => {
    const box = sandbox(AUTO);
    const proxy = await startProxy(box);
    for (const shell of ['sh', 'bash', 'zsh']) {
      const result = await run(box, ['env', '--shell', shell]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain(`export ANTHROPIC_BASE_URL='${proxy.url}'`);
      const binary = spawnSync('sh', ['-c', `command -v ${shell}`], { encoding: 'utf8' }).stdout.trim();
      if (!binary) {
        console.warn(`${shell} is not installed: its output was checked, not run`);
        continue;
      }
      // What users do: eval it in that shell, then read the variables back.
      const evaluated = spawnSync(binary, ['-c', 'eval "$1"; printf "%s %s" "$ANTHROPIC_BASE_URL" "$API_TIMEOUT_MS"', 'x', result.stdout], {
        encoding: 'utf8',
        env: { PATH: box.env.PATH },
      });
      expect(evaluated.status, evaluated.stderr).toBe(0);
      expect(evaluated.stdout).toBe(`${proxy.url} 1800000`);
    }
    const fromShell = await run(box, ['env'], { ...box.env, SHELL: '/usr/bin/zsh' });
    expect(fromShell.stdout).toContain(`export ANTHROPIC_BASE_URL='${proxy.url}'`);
    expect((await run(box, ['env', '--shell', 'fish'])).stdout).toContain(`set -gx ANTHROPIC_BASE_URL '${proxy.url}'`);
    expect((await run(box, ['env', '--shell', 'powershell'])).stdout).toContain(`$env:ANTHROPIC_BASE_URL = '${proxy.url}'`);
    const bad = await run(box, ['env', '--shell', 'tcsh']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('sh, bash, zsh, fish, powershell');
  });

  it('says why it exports each variable, and keeps tuning a user already set', async () => {
    const box = sandbox(AUTO);
    await startProxy(box);
    const result = await run(box, ['env']);
    const lines = result.stdout.split('\n');
    const exported = Object.keys(exportsOf(result.stdout));
    expect(exported).toEqual(['ANTHROPIC_BASE_URL', 'ANTHROPIC_AUTH_TOKEN', 'CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', 'CLAUDE_CODE_ATTRIBUTION_HEADER', 'API_TIMEOUT_MS']);
    for (const name of exported) {
      const at = lines.findIndex((line) => line.startsWith(`export ${name}=`));
      expect(lines[at - 1], `the comment above ${name}`).toMatch(/^# \w.{20,}/);
    }
    const kept = await run(box, ['env'], { ...box.env, API_TIMEOUT_MS: '42' });
    expect(exportsOf(kept.stdout).API_TIMEOUT_MS).toBeUndefined();
    expect(kept.stdout).toContain('API_TIMEOUT_MS is already set');
  });

  it("with the telemetry plugin's claudeCode on, points Claude Code's own exports at the proxy, without printing a client key", async () => {
    const box = sandbox({ ...AUTO, auth: { keys: ['client-key-NOT-PRINTED'] }, plugins: [['telemetry', { claudeCode: { signals: ['traces', 'metrics'] } }]] });
    const proxy = await startProxy(box);
    const result = await run(box, ['env']);
    expect(result.code, result.stderr).toBe(0);
    expect(exportsOf(result.stdout)).toMatchObject({
      CLAUDE_CODE_ENABLE_TELEMETRY: '1',
      CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'none',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_ENDPOINT: proxy.url,
    });
    expect(result.stdout).toContain('OTEL_EXPORTER_OTLP_HEADERS');
    expect(result.stdout).not.toContain('client-key-NOT-PRINTED');
    // Without it, none of them.
    const plain = sandbox(AUTO);
    await startProxy(plain);
    expect(Object.keys(exportsOf((await run(plain, ['env'])).stdout)).some((name) => name.startsWith('OTEL_'))).toBe(false);
  });
});

describe("llm-proxy env and the active backend's context window", () => {
  it('exports the window the running proxy knows, and a non-Claude model name under 100k; the opt-in to /model discovery swaps essential-traffic mode for its opt-outs', async () => {
    const box = sandbox({ port: 'auto', backends: { main: { ...scripted('hi'), contextWindow: 32_768 } } });
    await startProxy(box);
    const result = await run(box, ['env']);
    expect(result.code, result.stderr).toBe(0);
    expect(exportsOf(result.stdout)).toMatchObject({
      CLAUDE_CODE_MAX_CONTEXT_TOKENS: '32768',
      CLAUDE_CODE_AUTO_COMPACT_WINDOW: '32768',
      ANTHROPIC_MODEL: 'anthropic/main',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    });
    const discovering = await run(box, ['env'], { ...box.env, CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: '1' });
    const exported = exportsOf(discovering.stdout);
    expect(exported).toMatchObject({ DISABLE_TELEMETRY: '1', DISABLE_ERROR_REPORTING: '1', DISABLE_AUTOUPDATER: '1' });
    expect(exported.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBeUndefined();
  });

  it('a window of 100k or more needs no model name', async () => {
    const box = sandbox({ port: 'auto', backends: { main: { ...scripted('hi'), contextWindow: 131_072 } } });
    await startProxy(box);
    const exported = exportsOf((await run(box, ['env'])).stdout);
    expect(exported).toMatchObject({ CLAUDE_CODE_MAX_CONTEXT_TOKENS: '131072', CLAUDE_CODE_AUTO_COMPACT_WINDOW: '131072' });
    expect(exported.ANTHROPIC_MODEL).toBeUndefined();
  });
});

describe.skipIf(claudeMissing)('llm-proxy env with the real Claude Code', () => {
  it("makes the system prompt the same for every conversation (no per-conversation billing line)", { timeout: 240_000 }, async () => {
    const upstream = await startFakeUpstream({ format: 'anthropic' });
    cleanup.push(() => upstream.close());
    upstream.setFallback({ kind: 'anthropic-stream', events: anthropicTextEvents('pong') });
    const box = sandbox({ port: 'auto', backends: { claude: { type: 'anthropic', url: upstream.url, apiKey: 'upstream-key' } } });
    const proxy = await startProxy(box);

    // Without llm-proxy env: Claude Code's own default puts a billing line first in the system prompt.
    const plain = await runClaude({ baseUrl: proxy.url, prompt: 'say pong' });
    expect(plain.code, plain.stderr).toBe(0);
    const systemOf = (i: number) => JSON.stringify((upstream.chatRequests[i]?.body as { system?: unknown }).system);
    expect(systemOf(0)).toContain('x-anthropic-billing-header');

    // As users run it: eval the exports in a shell, then claude.
    const bin = tempDir('llm-proxy-bin-');
    writeFileSync(join(bin, 'llm-proxy'), `#!/bin/sh\nexec "${process.execPath}" --import "${TSX}" "${MAIN}" "$@"\n`, { mode: 0o755 });
    const home = tempDir('llm-proxy-claude-home-');
    const before = upstream.chatRequests.length;
    const child = spawn('sh', ['-c', 'eval "$(llm-proxy env)" && exec claude -p "say pong" --output-format json --dangerously-skip-permissions'], {
      cwd: box.workspace,
      env: {
        PATH: `${bin}${delimiter}${claudeBinDir}${delimiter}${process.env.PATH ?? ''}`,
        HOME: home,
        LLM_PROXY_HOME: box.home,
        NO_COLOR: '1',
        IS_SANDBOX: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const result = await collect(child).result;
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as { result: string }).result).toContain('pong');
    expect(upstream.chatRequests.length).toBeGreaterThan(before);
    for (let i = before; i < upstream.chatRequests.length; i++) expect(systemOf(i)).not.toContain('x-anthropic-billing-header');
  });
});
