import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveUserConfig } from '../src/config/load.js';
import { freePort } from '../src/plugins/local-port.js';
import { presetsProvider } from '../src/plugins/presets-provider.js';
import { sshArgs } from '../src/plugins/ssh-tunnel-process.js';
import { planTunnel, sshTunnel } from '../src/plugins/ssh-tunnel.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { postMessages, startProxy, type TestProxy } from './support/proxy.js';
import { requireTools } from './support/required-tools.js';
import { SSH_INSTALL, SSH_TOOLS, startSshd, type Sshd } from './support/sshd.js';

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
    await expect(resolveUserConfig({ backends: { gpu: { type: 'self-hosted' } } } as never, quiet)).rejects.toThrow(/backends\.gpu\.url: Required/);
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
      expect((await tunnels(dead.url)).status).toBe('down');
    } finally {
      await dead.close();
    }
  });

  it('stops ssh at shutdown', async () => {
    const { pid } = (await tunnels(px.url)).backends.gpu!;
    expect(isRunning(pid!)).toBe(true);
    await px.close();
    expect(isRunning(pid!)).toBe(false);
  });
});
