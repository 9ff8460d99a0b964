import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProxyError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { portAnswers } from './local-port.js';

export type TunnelState = 'starting' | 'up' | 'down' | 'restarting' | 'stopped';

export interface TunnelSettings {
  backend: string;
  host: string;
  port: number;
  user: string;
  identityFile?: string;
  knownHostsFile?: string;
  remoteHost: string;
  remotePort: number;
  localPort: number;
  readyTimeoutMs: number;
}

const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;
/** A tunnel that stayed up this long starts its backoff from the beginning again. */
const STABLE_MS = 30_000;
const PROBE_INTERVAL_MS = 200;
const KILL_GRACE_MS = 2_000;

export function sshArgs(s: TunnelSettings): string[] {
  const remoteHost = s.remoteHost.includes(':') ? `[${s.remoteHost}]` : s.remoteHost;
  return [
    '-N',
    // Bound to 127.0.0.1 explicitly, whatever GatewayPorts says: the tunnel is for this proxy only.
    '-L',
    `127.0.0.1:${s.localPort}:${remoteHost}:${s.remotePort}`,
    '-p',
    String(s.port),
    ...(s.identityFile ? ['-i', s.identityFile, '-o', 'IdentitiesOnly=yes'] : []),
    ...(s.knownHostsFile ? ['-o', `UserKnownHostsFile=${s.knownHostsFile}`] : []),
    ...['-o', 'ExitOnForwardFailure=yes', '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3', '-o', 'BatchMode=yes'],
    // Never "no": an unknown host's key is recorded, a changed one stops the tunnel.
    ...['-o', 'StrictHostKeyChecking=accept-new'],
    `${s.user}@${s.host}`,
  ];
}

/**
 * What to do when ssh's last words say that trying again soon cannot help: they wait on a
 * person (a host name to fix, a key to authorize, a changed host key, ssh to install).
 * Undefined for what may pass by itself (a refused or timed-out connection: an instance booting).
 */
export function personNeeded(said: string, s: TunnelSettings): string | undefined {
  const at = `backends.${s.backend}.tunnel`;
  if (/Could not resolve hostname/i.test(said) && !/Temporary failure/i.test(said)) {
    return `check ${at}.host (${s.host}): this machine cannot resolve it`;
  }
  if (/Permission denied/i.test(said)) {
    const key = s.identityFile ? `${at}.identityFile (${s.identityFile})` : `${at}.identityFile (unset: ssh's default keys and agent)`;
    return `authorize this machine's key for ${s.user}@${s.host} or fix ${key}; the tunnel never asks for a password`;
  }
  if (/Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(said)) {
    const known = s.port === 22 ? s.host : `[${s.host}]:${s.port}`;
    return `the host's key differs from the one recorded: if the instance was replaced, remove the old key with \`ssh-keygen -R '${known}'\``;
  }
  if (/^could not run .*not found on PATH/.test(said)) return 'install the OpenSSH client (Debian: apt-get install openssh-client)';
  return undefined;
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** One `ssh -N -L` process, restarted with exponential backoff (1 s doubling to 30 s) when it exits. */
export class Tunnel {
  readonly settings: TunnelSettings;
  readonly #logger: Logger;
  readonly #command: string;
  #state: TunnelState = 'stopped';
  #stopping = true;
  #child: ChildProcess | undefined;
  #restarts = 0;
  #failures = 0;
  #upSince: number | undefined;
  #retryAt: number | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #stderrLine = '';
  #lastError: string | undefined;
  /** Set while the last exit needs a person (personNeeded); requests then fail at once. */
  #advice: string | undefined;
  readonly #onChange = new Set<() => void>();

  constructor(settings: TunnelSettings, logger: Logger, command = 'ssh') {
    this.settings = settings;
    this.#logger = logger;
    this.#command = command;
  }

  get state(): TunnelState {
    return this.#state;
  }

  /** `user@host:port -> remoteHost:remotePort`, for messages. */
  get target(): string {
    const s = this.settings;
    return `${s.user}@${s.host}:${s.port} -> ${s.remoteHost}:${s.remotePort}`;
  }

  start(): void {
    if (!this.#stopping) return;
    this.#stopping = false;
    this.#spawn('starting');
  }

  #setState(state: TunnelState): void {
    this.#state = state;
    for (const listener of [...this.#onChange]) listener();
  }

  #spawn(state: 'starting' | 'restarting'): void {
    this.#setState(state);
    this.#stderrLine = '';
    // Its own process group, so stopping it also stops anything ssh started (a ProxyCommand).
    const child = spawn(this.#command, sshArgs(this.settings), { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    this.#child = child;
    child.stderr?.setEncoding('utf8').on('data', (text: string) => this.#readStderr(text));
    child.once('error', (error: NodeJS.ErrnoException) => {
      const why = error.code === 'ENOENT' ? 'not found on PATH; install the OpenSSH client' : error.message;
      this.#stderrLine = `could not run ${this.#command}: ${why}`;
    });
    child.once('close', (code, signal) => this.#exited(child, code, signal));
    void this.#waitUntilListening(child);
  }

  #readStderr(text: string): void {
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.trim();
      if (line === '' || line.startsWith('Warning: Permanently added')) continue;
      this.#stderrLine = line;
      this.#logger.debug(`ssh: ${line}`, { backend: this.settings.backend });
    }
  }

  /** ssh listens on the local port once it logged in and set up the forward. */
  async #waitUntilListening(child: ChildProcess): Promise<void> {
    while (this.#child === child) {
      if ((await portAnswers(this.settings.localPort)) && this.#child === child) {
        this.#upSince = Date.now();
        this.#advice = undefined;
        this.#setState('up');
        this.#logger.info(`tunnel for backend "${this.settings.backend}" is up`, { target: this.target, localPort: this.settings.localPort });
        return;
      }
      await sleep(PROBE_INTERVAL_MS);
    }
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#child = undefined;
    const upFor = this.#upSince === undefined ? 0 : Date.now() - this.#upSince;
    this.#upSince = undefined;
    if (this.#stopping) {
      this.#setState('stopped');
      return;
    }
    this.#lastError = this.#stderrLine || (signal ? `ssh was killed by ${signal}` : `ssh exited with code ${code}`);
    this.#advice = personNeeded(this.#lastError, this.settings);
    if (upFor >= STABLE_MS) this.#failures = 0;
    const delay = Math.min(FIRST_RETRY_MS * 2 ** this.#failures, MAX_RETRY_MS);
    this.#failures += 1;
    this.#retryAt = Date.now() + delay;
    this.#setState('down');
    this.#logger.warn(`tunnel for backend "${this.settings.backend}" is down: ${this.#lastError}; restarting in ${delay / 1000} s`, {
      target: this.target,
    });
    this.#retryTimer = setTimeout(() => {
      this.#retryAt = undefined;
      this.#restarts += 1;
      this.#spawn('restarting');
    }, delay);
  }

  /**
   * Resolves once the tunnel is up (or the client went away); a 502 after `readyTimeoutMs`, or
   * as soon as ssh exits with a failure that needs a person.
   */
  async whenUp(signal: AbortSignal): Promise<void> {
    if (this.#state === 'up') return;
    if (this.#state === 'stopped') throw this.#notUp();
    if (this.#needsPerson()) throw this.#notUp();
    const up = await new Promise<boolean>((resolve) => {
      const finish = (value: boolean): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.#onChange.delete(onChange);
        resolve(value);
      };
      const onChange = (): void => {
        if (this.#state === 'up' || this.#state === 'stopped') finish(this.#state === 'up');
        else if (this.#needsPerson()) finish(false);
      };
      // The provider then sees the aborted signal and reports the disconnect as usual.
      const onAbort = (): void => finish(true);
      const timer = setTimeout(() => finish(false), this.settings.readyTimeoutMs);
      this.#onChange.add(onChange);
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) onAbort();
    });
    if (!up) throw this.#notUp();
  }

  /** Down after an exit that needs a person, and not trying again right now. */
  #needsPerson(): boolean {
    return this.#state === 'down' && this.#advice !== undefined;
  }

  #notUp(): ProxyError {
    const { backend, host, port, user, localPort, readyTimeoutMs } = this.settings;
    const login = `check that the instance runs and that \`ssh -p ${port} ${user}@${host}\` logs in from this machine without a prompt`;
    const switchAway = '`llm-proxy switch <another backend>`';
    const advice = this.#needsPerson() ? this.#advice : undefined;
    if (advice !== undefined) {
      // Claude Code would retry a 502 ten times, minutes in which nothing changes by itself.
      const retryIn = this.#retryAt === undefined ? '' : `; llm-proxy runs ssh again in ${Math.ceil(Math.max(0, this.#retryAt - Date.now()) / 1000)} s`;
      return new ProxyError(`the SSH tunnel ${this.target} (local port ${localPort}) is down; ssh said: ${this.#lastError}${retryIn}`, {
        code: 'tunnel_down',
        type: 'api_error',
        status: 502,
        backend,
        retryable: false,
        recommendations: [advice, switchAway],
      });
    }
    const why = this.#state === 'stopped' ? 'is stopped (the proxy is shutting down)' : `did not come up within ${readyTimeoutMs / 1000} s`;
    const said = this.#stderrLine || this.#lastError;
    return new ProxyError(`the SSH tunnel ${this.target} (local port ${localPort}) ${why}${said ? `; ssh said: ${said}` : ''}`, {
      code: 'tunnel_down',
      type: 'api_error',
      status: 502,
      backend,
      recommendations: [login, switchAway],
    });
  }

  report(): Record<string, string | number | undefined> {
    return {
      state: this.#state,
      pid: this.#child?.pid,
      localPort: this.settings.localPort,
      target: this.target,
      restarts: this.#restarts,
      lastError: this.#lastError,
      upSince: this.#upSince === undefined ? undefined : new Date(this.#upSince).toISOString(),
      retryInMs: this.#retryAt === undefined ? undefined : Math.max(0, this.#retryAt - Date.now()),
    };
  }

  /** SIGTERM to ssh's process group, SIGKILL after 2 s; resolves when it exited. */
  async stop(): Promise<void> {
    this.#stopping = true;
    clearTimeout(this.#retryTimer);
    this.#retryAt = undefined;
    const child = this.#child;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      this.#child = undefined;
      this.#setState('stopped');
      return;
    }
    const pid = child.pid;
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    killGroup(pid, 'SIGTERM');
    const force = setTimeout(() => killGroup(pid, 'SIGKILL'), KILL_GRACE_MS);
    await exited;
    clearTimeout(force);
  }

  /** For `process.on('exit')`, where nothing asynchronous runs any more. */
  killNow(): void {
    if (this.#child?.pid !== undefined) killGroup(this.#child.pid, 'SIGTERM');
  }
}
