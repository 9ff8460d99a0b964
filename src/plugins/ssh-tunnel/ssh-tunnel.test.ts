import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveUserConfig } from '../../config/load.js';
import { createProxy } from '../../proxy.js';
import { claudeMissing, runClaude } from '../../../tests/support/claude-cli.js';
import { startCountingRelay } from '../../../tests/support/counting-relay.js';
import { freePort } from './local-port.js';
import { presetsProvider } from '../providers/presets/index.js';
import { personNeeded, sshArgs, type TunnelSettings } from './process.js';
import { planTunnel, sshTunnel } from './index.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../../tests/support/fake-upstream.js';
import { postMessages, startProxy, type TestProxy } from '../../../tests/support/proxy.js';
import { requireTools } from '../../../tests/support/required-tools.js';
import { SSH_INSTALL, SSH_TOOLS, startSshd, type Sshd } from '../../../tests/support/sshd.js';

interface TunnelReport {
  state: string;
  pid?: number;
  localPort: number;
  target: string;
  restarts: number;
  lastError?: string;
}

interface TunnelsSection {
  status: string;
  backends: Record<string, TunnelReport>;
}

async function tunnels(url: string): Promise<TunnelsSection> {
  const health = (await (await fetch(`${url}/health`)).json()) as { plugins: { tunnels: TunnelsSection } };
  return health.plugins.tunnels;
}

async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const question = { model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] };

describe('tunnel settings', () => {
  const spec = (options: Record<string, unknown>) => ({ name: 'gpu', type: 'openai', options });
  const tunnel = { host: 'ssh5.vast.ai', port: 12345, user: 'root', remotePort: 11434 };

  it('points the url at the local end, keeping its path', async () => {
    const planned = await planTunnel(spec({ url: 'http://localhost:8001/v1', tunnel }));
    expect(planned.url).toBe('http://127.0.0.1:8001/v1');
    expect(planned.settings).toMatchObject({ localPort: 8001, remoteHost: '127.0.0.1', remotePort: 11434, readyTimeoutMs: 30_000 });
    const free = await planTunnel(spec({ tunnel }));
    expect(free.url).toBe(`http://127.0.0.1:${free.settings.localPort}`);
  });

  it('runs ssh with keepalives and host-key checking, never "no"', () => {
    const args = sshArgs({ ...tunnel, backend: 'gpu', remoteHost: '127.0.0.1', localPort: 4000, readyTimeoutMs: 1, identityFile: '/k' });
    expect(args.join(' ')).toBe(
      '-N -L 127.0.0.1:4000:127.0.0.1:11434 -p 12345 -i /k -o IdentitiesOnly=yes -o ExitOnForwardFailure=yes -o ServerAliveInterval=15 ' +
        '-o ServerAliveCountMax=3 -o BatchMode=yes -o StrictHostKeyChecking=accept-new root@ssh5.vast.ai',
    );
  });

  it('rejects a url elsewhere, a port conflict and option-like hosts', async () => {
    await expect(planTunnel(spec({ url: 'http://10.0.0.5:8000', tunnel }))).rejects.toThrow(/backends\.gpu\.url: with a tunnel, url must point at its local end/);
    await expect(planTunnel(spec({ url: 'http://127.0.0.1:8000', tunnel: { ...tunnel, localPort: 9000 } }))).rejects.toThrow(/differs from tunnel\.localPort/);
    const quiet = { onWarning: () => undefined };
    await expect(
      resolveUserConfig({ backends: { gpu: { type: 'openai', tunnel: { ...tunnel, host: '-oProxyCommand=touch /tmp/x' } } } }, quiet),
    ).rejects.toThrow(/backends\.gpu\.tunnel\.host.*must be a host name/);
    await expect(resolveUserConfig({ backends: { gpu: { type: 'openai', tunnel: { host: 'h', user: 'u' } } } } as never, quiet)).rejects.toThrow(
      /backends\.gpu\.tunnel\.remotePort: Required/,
    );
    // Neither url nor tunnel: the provider's schema says so when the backend is built.
    await expect(createProxy({ backends: { gpu: { type: 'self-hosted' } } } as never, { logSink: () => undefined })).rejects.toThrow(
      /backends\.gpu\.url: Required/,
    );
  });
});

describe("ssh's failures that wait on a person", () => {
  const settings: TunnelSettings = { backend: 'gpu', host: 'ssh5.vast.ai', port: 12345, user: 'root', remoteHost: '127.0.0.1', remotePort: 11434, localPort: 11435, readyTimeoutMs: 30_000 };

  it('names what to fix for each, and nothing for what may pass by itself', () => {
    expect(personNeeded('ssh: Could not resolve hostname ssh5.vast.ai: Name or service not known', settings)).toContain('backends.gpu.tunnel.host');
    expect(personNeeded('root@ssh5.vast.ai: Permission denied (publickey).', { ...settings, identityFile: '/k' })).toContain('backends.gpu.tunnel.identityFile (/k)');
    expect(personNeeded('Host key verification failed.', settings)).toContain("ssh-keygen -R '[ssh5.vast.ai]:12345'");
    expect(personNeeded('could not run ssh: not found on PATH; install the OpenSSH client', settings)).toContain('openssh-client');
    // A DNS hiccup, an instance still booting or unreachable for now: the client keeps its retries.
    expect(personNeeded('ssh: Could not resolve hostname ssh5.vast.ai: Temporary failure in name resolution', settings)).toBeUndefined();
    expect(personNeeded('ssh: connect to host ssh5.vast.ai port 12345: Connection refused', settings)).toBeUndefined();
    expect(personNeeded('ssh: connect to host ssh5.vast.ai port 12345: Connection timed out', settings)).toBeUndefined();
    expect(personNeeded('ssh was killed by SIGKILL', settings)).toBeUndefined();
  });
});

const tools = requireTools(SSH_TOOLS, SSH_INSTALL);

describe.skipIf(tools.skip)('ssh tunnels through a real sshd on 127.0.0.1', () => {
  let sshd: Sshd;
  let upstream: FakeUpstream;
  let px: TestProxy;

  beforeAll(async () => {
    tools.assertPresent();
    sshd = await startSshd(tools);
    upstream = await startFakeUpstream();
    upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('through the tunnel') });
    const tunnel = { host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHostsFile: sshd.knownHostsFile };
    px = await startProxy({
      backend: 'gpu',
      backends: { gpu: { type: 'vast-ai', model: 'qwen3-coder:30b', tunnel: { ...tunnel, remotePort: upstream.port } } },
      plugins: [sshTunnel(), presetsProvider()],
    });
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
    await sshd?.close();
  });

  it('routes a request through the tunnel once it is up', async () => {
    const answer = await postMessages(px.url, question);
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).content[0].text).toBe('through the tunnel');
    expect(upstream.chatRequests).toHaveLength(1);

    const section = await tunnels(px.url);
    expect(section.status).toBe('ok');
    const gpu = section.backends.gpu!;
    expect(gpu).toMatchObject({ state: 'up', restarts: 0, target: `${sshd.user}@127.0.0.1:${sshd.port} -> 127.0.0.1:${upstream.port}` });
    // accept-new recorded the unknown host's key instead of refusing or ignoring it.
    expect(readFileSync(sshd.knownHostsFile, 'utf8')).toContain(sshd.hostKey);
    const cmdline = readFileSync(`/proc/${gpu.pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toEqual(expect.arrayContaining(['-N', 'StrictHostKeyChecking=accept-new', 'BatchMode=yes', `127.0.0.1:${gpu.localPort}:127.0.0.1:${upstream.port}`]));
    const health = (await (await fetch(`${px.url}/health`)).json()) as { backends: Record<string, { status: string }> };
    expect(health.backends.gpu?.status).toBe('ok');
  });

  it('restarts ssh when it dies, and routes again', async () => {
    const before = (await tunnels(px.url)).backends.gpu!;
    process.kill(before.pid!, 'SIGKILL');
    const down = await waitFor(() => tunnels(px.url), (s) => s.backends.gpu?.state !== 'up');
    expect(down.status).toBe('down');
    expect(down.backends.gpu?.lastError).toBe('ssh was killed by SIGKILL');
    // The request arrives while ssh is down and waits for the restart (1 s backoff). A new
    // question: the cache would answer the earlier one without the tunnel.
    const answer = await postMessages(px.url, { ...question, messages: [{ role: 'user', content: 'after the restart' }] });
    expect(answer.status).toBe(200);
    const after = (await tunnels(px.url)).backends.gpu!;
    expect(after).toMatchObject({ state: 'up', restarts: 1, localPort: before.localPort });
    expect(after.pid).not.toBe(before.pid);
  });

  it('fails a request with a 502 naming the tunnel when it cannot come up', async () => {
    const closedPort = await freePort();
    const dead = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: { type: 'openai', tunnel: { host: '127.0.0.1', port: closedPort, user: sshd.user, remotePort: 8000, readyTimeoutMs: 1_500 } },
      },
      plugins: [sshTunnel()],
    });
    try {
      const started = Date.now();
      const answer = await postMessages(dead.url, question);
      expect(answer.status).toBe(502);
      expect(Date.now() - started).toBeLessThan(10_000);
      const error = JSON.parse(answer.text) as { error: { type: string; message: string } };
      expect(error.error.type).toBe('api_error');
      expect(error.error.message).toContain(`the SSH tunnel ${sshd.user}@127.0.0.1:${closedPort} -> 127.0.0.1:8000`);
      expect(error.error.message).toContain('did not come up within 1.5 s; ssh said:');
      expect(error.error.message).toMatch(/Connection refused/);
      expect(error.error.message).toContain('llm-proxy switch');
      // An instance that is not up yet may be soon: the client keeps its retries.
      expect(answer.headers.get('x-should-retry')).toBeNull();
      expect((await tunnels(dead.url)).status).toBe('down');
    } finally {
      await dead.close();
    }
  });

  // What waits on a person (a host name that does not resolve, a key the server refuses) fails
  // as soon as ssh gives up, with x-should-retry: false: before, every request waited for
  // readyTimeoutMs and Claude Code retried the 502 ten times (minutes of silence).
  describe('a tunnel that cannot log in', () => {
    let broken: TestProxy;
    beforeAll(async () => {
      const dir = mkdtempSync(join(tmpdir(), 'llm-proxy-unauthorized-'));
      const unauthorized = join(dir, 'key');
      const keygen = spawnSync(tools.path('ssh-keygen'), ['-q', '-t', 'ed25519', '-N', '', '-f', unauthorized], { encoding: 'utf8' });
      expect(keygen.status, keygen.stderr).toBe(0);
      const otherKnownHosts = join(dir, 'known_hosts');
      writeFileSync(otherKnownHosts, `[127.0.0.1]:${sshd.port} ${readFileSync(`${unauthorized}.pub`, 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
      // Long enough that a request waiting for it cannot pass for failing at once.
      const readyTimeoutMs = 20_000;
      broken = await startProxy({
        backend: 'nohost',
        backends: {
          nohost: { type: 'vast-ai', model: 'qwen3-coder:30b', tunnel: { host: 'gpu.nosuch.invalid', port: 12345, user: 'root', remotePort: 11434, readyTimeoutMs } },
          // A host key other than the server's already recorded for it (a replaced instance).
          changed: {
            type: 'vast-ai',
            model: 'qwen3-coder:30b',
            tunnel: { host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: sshd.identityFile, knownHostsFile: otherKnownHosts, remotePort: 11434, readyTimeoutMs },
          },
          denied: {
            type: 'vast-ai',
            model: 'qwen3-coder:30b',
            tunnel: { host: '127.0.0.1', port: sshd.port, user: sshd.user, identityFile: unauthorized, knownHostsFile: sshd.knownHostsFile, remotePort: 11434, readyTimeoutMs },
          },
        },
        plugins: [sshTunnel(), presetsProvider()],
      });
    });
    afterAll(async () => {
      await broken?.close();
    });

    it('an unknown host: a 502 with ssh\'s reason and x-should-retry: false', async () => {
      const answer = await postMessages(broken.url, question);
      expect(answer.status).toBe(502);
      expect(answer.headers.get('x-should-retry')).toBe('false');
      const { error } = JSON.parse(answer.text) as { error: { type: string; message: string } };
      expect(error.message).toContain('the SSH tunnel root@gpu.nosuch.invalid:12345 -> 127.0.0.1:11434');
      expect(error.message).toContain('Could not resolve hostname gpu.nosuch.invalid');
      expect(error.message).toContain('backends.nohost.tunnel.host');
      expect(error.message).not.toContain('did not come up within');
    }, 40_000);

    it('a key the server refuses: the same, naming the key setting', async () => {
      const answer = await postMessages(broken.url, { ...question, model: 'denied' });
      expect(answer.status).toBe(502);
      expect(answer.headers.get('x-should-retry')).toBe('false');
      const { error } = JSON.parse(answer.text) as { error: { message: string } };
      expect(error.message).toContain('Permission denied (publickey)');
      expect(error.message).toContain('backends.denied.tunnel.identityFile');
      const section = await tunnels(broken.url);
      expect(section.backends.denied?.lastError).toContain('Permission denied');
    }, 40_000);

    it('a host key that changed: the same, with the command that forgets the old key', async () => {
      const answer = await postMessages(broken.url, { ...question, model: 'changed' });
      expect(answer.status).toBe(502);
      expect(answer.headers.get('x-should-retry')).toBe('false');
      const { error } = JSON.parse(answer.text) as { error: { message: string } };
      expect(error.message).toContain('Host key verification failed');
      expect(error.message).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}'`);
    }, 40_000);

    it.skipIf(claudeMissing)('the real Claude Code CLI shows it after one request, with its default retries', async () => {
      const relay = await startCountingRelay(broken.url);
      try {
        const run = await runClaude({ baseUrl: relay.url, prompt: 'say hi' });
        expect(run.timedOut, 'the CLI was still retrying when the test gave up').toBe(false);
        const json = run.json as { is_error?: boolean; result?: string } | undefined;
        expect(json?.is_error, run.stderr || run.stdout).toBe(true);
        expect(json?.result).toContain('Could not resolve hostname gpu.nosuch.invalid');
        expect(relay.messages).toBe(1);
      } finally {
        await relay.close();
      }
    }, 150_000);
  });

  it('stops ssh at shutdown', async () => {
    const { pid } = (await tunnels(px.url)).backends.gpu!;
    expect(isRunning(pid!)).toBe(true);
    await px.close();
    expect(isRunning(pid!)).toBe(false);
  });
});
