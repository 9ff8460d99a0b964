// A real OpenSSH server on 127.0.0.1 for tunnel tests: Debian's sshd with a throw-away host key,
// client key, authorized_keys and config in a temp directory, logging to stderr (`-D -e`).
// It logs in the user running the tests (root here, with PermitRootLogin prohibit-password).

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/plugins/ssh-tunnel/local-port.js';
import type { RequiredTools } from './required-tools.js';

export const SSH_TOOLS = ['ssh', 'sshd', 'ssh-keygen'] as const;
export const SSH_INSTALL = 'apt-get install openssh-server openssh-client';

export interface Sshd {
  port: number;
  user: string;
  /** The client's private key, authorized on this server. */
  identityFile: string;
  /** Empty at start; `StrictHostKeyChecking=accept-new` records the host key here. */
  knownHostsFile: string;
  /** The server's public host key (`ssh-ed25519 AAAA...`). */
  hostKey: string;
  /** Everything sshd logged so far. */
  log(): string;
  close(): Promise<void>;
}

function keygen(tools: RequiredTools, file: string): void {
  const result = spawnSync(tools.path('ssh-keygen'), ['-q', '-t', 'ed25519', '-N', '', '-f', file], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ssh-keygen failed: ${result.stderr}`);
}

export async function startSshd(tools: RequiredTools): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-proxy-sshd-'));
  const hostKey = join(dir, 'host_key');
  const identityFile = join(dir, 'client_key');
  keygen(tools, hostKey);
  keygen(tools, identityFile);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${identityFile}.pub`));
  const knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, '');
  const port = await freePort();
  const config = [
    `Port ${port}`,
    'ListenAddress 127.0.0.1',
    `HostKey ${hostKey}`,
    `PidFile ${join(dir, 'sshd.pid')}`,
    `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'StrictModes no',
    'AllowTcpForwarding yes',
  ].join('\n');
  writeFileSync(join(dir, 'sshd_config'), `${config}\n`);
  // Debian's sshd refuses to start without its privilege separation directory.
  if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  // sshd re-executes itself, so it must be started by its absolute path.
  const child = spawn(tools.path('sshd'), ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (log += text));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sshd did not start within 10 s:\n${log}`)), 10_000);
    const check = (): void => {
      if (!/Server listening on/.test(log)) return;
      clearTimeout(timer);
      resolve();
    };
    child.stderr.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sshd exited with code ${code}:\n${log}`));
    });
  });

  return {
    port,
    user: userInfo().username,
    identityFile,
    knownHostsFile,
    hostKey: readFileSync(`${hostKey}.pub`, 'utf8').split(' ').slice(0, 2).join(' '),
    log: () => log,
    async close() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
