import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveUserConfig } from '../src/config/load.js';
import type { UserConfig } from '../src/config/types.js';
import { freePort } from '../src/plugins/ssh-tunnel/local-port.js';
import { createProxy } from '../src/proxy.js';
import { requireTools } from './support/required-tools.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const fakeBin = join(repo, 'tests/support/fake-gpu-bin');
const MODEL = 'qwen3-coder:30b';
/** What the recipes install: this package, by the name it is published under. */
const PACKAGE = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string }).name;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

interface Sandbox {
  workspace: string;
  port: number;
  /** What the fake tools were asked to do, one line each. */
  log(): string[];
  run(script: string, args?: string[], env?: Record<string, string>): Run;
  /** A pod restart: the volume stays, the processes are gone. */
  stopOllama(): void;
}

async function sandbox(): Promise<Sandbox> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-proxy-deploy-'));
  const state = join(dir, 'state');
  mkdirSync(state);
  const fakeLog = join(dir, 'calls.log');
  const port = await freePort();
  const workspace = join(dir, 'workspace');
  const env = {
    PATH: `${fakeBin}:/usr/bin:/bin`,
    HOME: dir,
    WORKSPACE: workspace,
    PORT: String(port),
    OLLAMA_PORT: String(await freePort()),
    LLM_PROXY_API_KEYS: 'test-client-key-1',
    FAKE_LOG: fakeLog,
    FAKE_STATE: state,
  };
  return {
    workspace,
    port,
    log: () => (existsSync(fakeLog) ? readFileSync(fakeLog, 'utf8').split('\n').filter(Boolean) : []),
    run(script, args = [], extra = {}) {
      const result = spawnSync('bash', [join(repo, script), ...args], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 60_000 });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
    stopOllama: () => rmSync(join(state, 'serving'), { force: true }),
  };
}

const count = (lines: string[], pattern: RegExp): number => lines.filter((line) => pattern.test(line)).length;

/** For the background start: waits until the fake llm-proxy logged its `times`th start. */
async function waitForLines(box: Sandbox, pattern: RegExp, times: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (count(box.log(), pattern) < times) {
    if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${box.log().join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.each([
  { script: 'deploy/runpod/start.sh', background: false },
  { script: 'deploy/vastai/onstart.sh', background: true },
])('$script', ({ script, background }) => {
  let box: Sandbox;
  beforeEach(async () => {
    box = await sandbox();
  });
  afterEach(() => rmSync(join(box.workspace, '..'), { recursive: true, force: true }));

  const startLine = (box: Sandbox) =>
    `llm-proxy start --config ${box.workspace}/llm-proxy/config.json --host 0.0.0.0 --port ${box.port}`;

  it('refuses to start without a client key, since the port is exposed', () => {
    const result = box.run(script, ['--dry-run'], { LLM_PROXY_API_KEYS: '' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('LLM_PROXY_API_KEYS is not set');
    expect(result.stderr).toContain('0.0.0.0');
  });

  it('--dry-run prints every action and changes nothing', () => {
    const result = box.run(script, ['--dry-run']);
    expect(result.status, result.stderr).toBe(0);
    const ws = box.workspace;
    const models = `${ws}/ollama/models`;
    const lines = result.stdout.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        `would run: mkdir -p ${models}`,
        `would run: mkdir -p ${ws}/llm-proxy`,
        expect.stringMatching(new RegExp(`^would start in the background: env OLLAMA_MODELS=${models} OLLAMA_HOST=127\\.0\\.0\\.1:\\d+ .*ollama serve >> ${ws}/ollama/serve\\.log$`)),
        `would run: ollama pull ${MODEL}`,
        `would run: npm install -g --no-audit --no-fund --prefix ${ws}/llm-proxy/npm ${PACKAGE}`,
        `would write ${ws}/llm-proxy/config.json (mode 0600):`,
        background ? `would start in the background: ${startLine(box)} >> ${ws}/llm-proxy/proxy.log` : `would run: ${startLine(box)}`,
      ]),
    );
    expect(result.stdout).not.toContain('ollama.com/install.sh');
    expect(existsSync(ws)).toBe(false);
    expect(box.log().filter((line) => !/^ollama list/.test(line))).toEqual([]);

    const withoutOllama = box.run(script, ['--dry-run'], { PATH: '/usr/bin:/bin' });
    expect(withoutOllama.stdout).toContain('would run: curl -fsSL https://ollama.com/install.sh | sh');
  });

  it('installs the package by its published name, and refuses the unrelated `llm-proxy`', () => {
    expect(PACKAGE).toBe('@jleechan/llm-proxy-server');
    const result = box.run(script);
    expect(result.status, result.stderr + result.stdout).toBe(0);
    expect(box.log()).toContain(`npm install -g --no-audit --no-fund --prefix ${box.workspace}/llm-proxy/npm ${PACKAGE}`);

    for (const wrong of ['llm-proxy', 'llm-proxy@1.17.0']) {
      const refused = box.run(script, ['--dry-run'], { LLM_PROXY_PACKAGE: wrong });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`LLM_PROXY_PACKAGE=${wrong} is an unrelated npm package`);
      expect(refused.stderr).toContain(PACKAGE);
    }
  });

  it('replaces the unrelated `llm-proxy` package an older recipe installed on the volume', async () => {
    const prefix = join(box.workspace, 'llm-proxy/npm');
    mkdirSync(join(prefix, 'lib/node_modules/llm-proxy'), { recursive: true });
    writeFileSync(join(prefix, 'lib/node_modules/llm-proxy/package.json'), '{"name":"llm-proxy","version":"1.17.0"}');
    mkdirSync(join(prefix, 'bin'));
    writeFileSync(join(prefix, 'bin/llm-proxy'), '#!/bin/sh\necho "the unrelated llm-proxy" >>"$FAKE_LOG"\n', { mode: 0o755 });

    const planned = box.run(script, ['--dry-run']);
    expect(planned.stdout).toContain(`would run: npm uninstall -g --no-audit --no-fund --prefix ${prefix} llm-proxy`);
    expect(planned.stdout).toContain(`would run: npm install -g --no-audit --no-fund --prefix ${prefix} ${PACKAGE}`);

    const result = box.run(script);
    expect(result.status, result.stderr + result.stdout).toBe(0);
    if (background) await waitForLines(box, /^llm-proxy start/, 1);
    const log = box.log();
    expect(log.filter((line) => line.startsWith('npm '))).toEqual([
      `npm uninstall -g --no-audit --no-fund --prefix ${prefix} llm-proxy`,
      `npm install -g --no-audit --no-fund --prefix ${prefix} ${PACKAGE}`,
    ]);
    expect(log).not.toContain('the unrelated llm-proxy');
    expect(log).toContain(`${startLine(box)} (client keys: set)`);
  });

  it('pulls the model once: a restarted pod finds it on the volume', async () => {
    const first = box.run(script);
    expect(first.status, first.stderr + first.stdout).toBe(0);
    if (background) await waitForLines(box, /^llm-proxy start/, 1);
    let log = box.log();
    expect(count(log, /^ollama serve$/)).toBe(1);
    const serveEnv = new RegExp(`^serve env: OLLAMA_MODELS=${box.workspace}/ollama/models OLLAMA_HOST=127\\.0\\.0\\.1:\\d+ OLLAMA_CONTEXT_LENGTH=65536$`);
    expect(count(log, serveEnv)).toBe(1);
    expect(count(log, new RegExp(`^ollama pull ${MODEL}$`))).toBe(1);
    expect(count(log, /^npm install -g/)).toBe(1);
    expect(log).toContain(`${startLine(box)} (client keys: set)`);

    const configFile = join(box.workspace, 'llm-proxy/config.json');
    expect(statSync(configFile).mode & 0o777).toBe(0o600);
    const configText = readFileSync(configFile, 'utf8');
    expect(configText).not.toContain('test-client-key-1');
    expect(JSON.parse(configText)).toEqual({
      backend: 'ollama',
      port: box.port,
      backends: { ollama: { type: 'ollama', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), model: MODEL } },
    });
    // The proxy accepts it (the ollama backend type is built in).
    const proxy = await createProxy(JSON.parse(configText) as UserConfig, { logSink: () => undefined });
    expect(proxy.kernel.backends.get('ollama')?.type).toBe('ollama');
    await proxy.close();

    box.stopOllama();
    const second = box.run(script);
    expect(second.status, second.stderr + second.stdout).toBe(0);
    if (background) await waitForLines(box, /^llm-proxy start/, 2);
    expect(second.stdout).toContain(`model ${MODEL} is already on the volume; not pulling`);
    expect(second.stdout).toContain('is up to date');
    log = box.log();
    expect(count(log, /^ollama serve$/)).toBe(2);
    expect(count(log, /^ollama pull/)).toBe(1);
    expect(count(log, /^npm /)).toBe(1);

    box.stopOllama();
    const planned = box.run(script, ['--dry-run']);
    expect(planned.status).toBe(0);
    expect(planned.stdout).toContain('ollama serve');
    expect(planned.stdout).not.toContain('ollama pull');
    expect(planned.stdout).not.toContain('npm install');
    expect(planned.stdout).not.toContain('would write');
  });
});

describe('deploy/vastai/tunnel.sh', () => {
  const tunnelScript = join(repo, 'deploy/vastai/tunnel.sh');
  const run = (args: string[]) => spawnSync('bash', [tunnelScript, ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });

  it('--dry-run prints the config for the local end and the ssh command, host keys checked', () => {
    const result = run(['--dry-run', 'root@ssh5.vast.ai', '12345']);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('"url": "http://127.0.0.1:11435"');
    expect(result.stdout).toContain(
      'would run: ssh -N -L 127.0.0.1:11435:127.0.0.1:11434 -p 12345 -o ExitOnForwardFailure=yes -o ServerAliveInterval=15 ' +
        '-o ServerAliveCountMax=3 -o StrictHostKeyChecking=accept-new root@ssh5.vast.ai',
    );
  });

  it('--print-config prints a valid llm-proxy config with a tunnel', async () => {
    const result = run(['--print-config', 'root@ssh5.vast.ai', '12345']);
    expect(result.status, result.stderr).toBe(0);
    const config = await resolveUserConfig(JSON.parse(result.stdout), { onWarning: () => undefined });
    expect(config.backends['vast-ai']).toEqual({
      type: 'vast-ai',
      format: 'ollama',
      model: MODEL,
      tunnel: { host: 'ssh5.vast.ai', port: 12345, user: 'root', remotePort: 11434, localPort: 11435 },
    });
  });

  it('rejects a destination that is not user@host', () => {
    const result = run(['--dry-run', '-oProxyCommand=x', '22']);
    expect(result.status).toBe(2);
    expect(run(['--dry-run', 'ssh5.vast.ai', '22']).stderr).toContain('expected <user@host>');
  });
});

const shellcheck = requireTools(['shellcheck'], 'apt-get install shellcheck');

describe.skipIf(shellcheck.skip)('shellcheck', () => {
  const scripts = readdirSync(join(repo, 'deploy'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.sh'))
    .map((file) => join('deploy', file));

  it.each([...scripts, 'tests/support/fake-gpu-bin/ollama', 'tests/support/fake-gpu-bin/npm'])('%s passes', (file) => {
    shellcheck.assertPresent();
    const result = spawnSync(shellcheck.path('shellcheck'), ['-x', file], { cwd: repo, encoding: 'utf8' });
    expect(result.stdout + result.stderr).toBe('');
    expect(result.status).toBe(0);
  });
});
