import { basename } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pc from 'picocolors';
import type { ResolvedConfig } from '../../config/types.js';
import { claudeEnvVars, modelTierExamples, sessionOf } from '../claude-env.js';
import { CliError } from '../errors.js';
import {
  describeInstance,
  readInstances,
  selectInstance,
  startingFor,
  type InstanceRecord,
  type StartingRecord,
} from '../instances.js';
import { loadCliConfig } from '../load-config.js';
import { parseFixedPort, stringOption } from '../options.js';
import { llmProxyHome, workspaceDir } from '../paths.js';
import { err, out } from '../ui.js';
import { recordedPort } from '../workspace-port.js';

export interface EnvOptions {
  port?: unknown;
  shell?: unknown;
  workspace?: unknown;
  config?: unknown;
}

type Shell = 'sh' | 'bash' | 'zsh' | 'fish' | 'powershell';
const SHELLS: readonly Shell[] = ['sh', 'bash', 'zsh', 'fish', 'powershell'];

/** How long `env` waits for a proxy that is still starting (loading its config and plugins). */
export const STARTING_WAIT_MS = 10_000;
/** How long `env` looks for a proxy that `llm-proxy start &` launched a moment ago, before giving up. */
const LAUNCH_GRACE_MS = 2_000;

function pickShell(option: unknown, env: NodeJS.ProcessEnv): Shell {
  if (option !== undefined) {
    const shell = SHELLS.find((s) => s === option);
    if (!shell) throw new CliError(`--shell must be one of ${SHELLS.join(', ')}`, { exitCode: 2 });
    return shell;
  }
  const fromEnv = env.SHELL ? SHELLS.find((s) => s === basename(env.SHELL ?? '')) : undefined;
  if (fromEnv) return fromEnv;
  if (process.platform === 'win32' && !env.SHELL) return 'powershell';
  return 'sh';
}

const posix = (name: string, value: string) => `export ${name}='${value.replaceAll("'", `'\\''`)}'`;
const SETTERS: Record<Shell, (name: string, value: string) => string> = {
  sh: posix,
  bash: posix,
  zsh: posix,
  fish: (name, value) => `set -gx ${name} '${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`,
  powershell: (name, value) => `$env:${name} = '${value.replaceAll("'", "''")}'`,
};

const UNSETTERS: Record<Shell, (name: string) => string> = {
  sh: (name) => `unset ${name}`,
  bash: (name) => `unset ${name}`,
  zsh: (name) => `unset ${name}`,
  fish: (name) => `set -e ${name}`,
  powershell: (name) => `Remove-Item Env:${name}`,
};

/** Polls the record of a starting proxy until it listens; a proxy that exits or takes too long is an error. */
async function waitUntilReady(home: string, pending: StartingRecord): Promise<InstanceRecord> {
  err(pc.dim(`llm-proxy: waiting for the proxy starting for ${pending.workspace} (pid ${pending.pid}) ...`));
  const deadline = Date.now() + STARTING_WAIT_MS;
  for (;;) {
    const { ready, starting } = await readInstances(home);
    const done = ready.find((i) => i.pid === pending.pid);
    if (done) return done;
    if (!starting.some((s) => s.pid === pending.pid)) {
      throw new CliError(`the llm-proxy starting for ${pending.workspace} (pid ${pending.pid}) stopped before it listened`, {
        hints: ['its terminal (or log) says why; fix that and run `llm-proxy start` again'],
      });
    }
    if (Date.now() >= deadline) {
      throw new CliError(`the llm-proxy for ${pending.workspace} (pid ${pending.pid}) is still starting after ${STARTING_WAIT_MS / 1000} s`, {
        hints: ['run `llm-proxy env` again once it prints its URL'],
      });
    }
    await sleep(100);
  }
}

/** A proxy just launched in the background may not have recorded itself yet: look again, briefly. */
async function launchedJustNow(home: string, workspace: string): Promise<InstanceRecord | undefined> {
  const deadline = Date.now() + LAUNCH_GRACE_MS;
  while (Date.now() < deadline) {
    await sleep(100);
    const { ready, starting } = await readInstances(home);
    const found = selectInstance(ready, { workspace, fallbackToOnly: false });
    if (found) return found;
    const pending = startingFor(starting, workspace);
    if (pending) return waitUntilReady(home, pending);
  }
  return undefined;
}

const otherHints = (others: readonly InstanceRecord[]): string[] =>
  others.map((i) => `running for another workspace: ${describeInstance(i)}; to use it anyway: \`llm-proxy env --port ${i.port}\``);

interface Target {
  url: string;
  /** The proxy at `url`, when one runs there. */
  running?: InstanceRecord;
  /** A proxy of another workspace that shares this workspace's config (same file, or both none). */
  shared?: boolean;
}

interface Resolved {
  target: Target;
  /** This workspace's config, if it loads (client keys, model tiers). */
  config: ResolvedConfig | undefined;
}

/** The proxy this workspace's Claude Code should use; never another workspace's as if it were this one's. */
async function resolveTarget(home: string, workspace: string, port: number | undefined, configFile: string | undefined): Promise<Resolved> {
  const load = () => loadCliConfig({ workspace, home, configFile, quiet: true });
  // The URL of a running proxy is still useful with a broken config.
  const loadQuietly = () => load().catch(() => undefined);
  const { ready, starting } = await readInstances(home);
  if (port !== undefined) {
    const running = ready.find((i) => i.port === port);
    return { target: running ? { url: running.url, running } : { url: `http://127.0.0.1:${port}` }, config: await loadQuietly() };
  }

  const pending = startingFor(starting, workspace);
  const mine = selectInstance(ready, { workspace, fallbackToOnly: false }) ?? (pending && (await waitUntilReady(home, pending)));
  if (mine) return { target: { url: mine.url, running: mine }, config: await loadQuietly() };

  // Nothing for this workspace: the port its own proxy uses, from its config (or the record of `port: "auto"`).
  const config = await load();
  const wanted = config.port === 'auto' ? await recordedPort(home, workspace) : config.port;
  if (wanted === undefined) {
    const launched = await launchedJustNow(home, workspace);
    if (launched) return { target: { url: launched.url, running: launched }, config };
  }
  const now = (await readInstances(home)).ready;
  const others = now.filter((i) => i.workspace !== workspace);
  if (wanted === undefined) {
    throw new CliError(`no llm-proxy is running for ${workspace}, and its config picks a port automatically`, {
      hints: [
        'start it first (`llm-proxy start`), then run `llm-proxy env` again',
        'or use `llm-proxy code`, which starts one for the session',
        ...otherHints(others),
      ],
    });
  }
  const holder = now.find((i) => i.port === wanted);
  if (holder) {
    // The same config file (or none, for both): sharing one proxy is fine, and said so.
    if ((holder.configFile ?? undefined) === config.filepath) return { target: { url: holder.url, running: holder, shared: true }, config };
    throw new CliError(
      `no llm-proxy is running for ${workspace}; port ${wanted}, which its config uses, is held by the llm-proxy of another workspace (${holder.workspace}, config ${holder.configFile ?? 'none'})`,
      {
        hints: [
          `to use that proxy anyway: \`llm-proxy env --port ${wanted}\``,
          "or give this workspace its own: `port: 'auto'` in its config, or `llm-proxy start --port auto`",
        ],
      },
    );
  }
  if (others.length > 0) {
    err(`${pc.yellow('note:')} no llm-proxy runs for ${workspace} yet (start it with \`llm-proxy start\`); these serve other workspaces:`);
    for (const other of others) err(`  ${describeInstance(other)}`);
  }
  return { target: { url: `http://127.0.0.1:${wanted}` }, config };
}

export async function env(options: EnvOptions): Promise<number> {
  const home = llmProxyHome();
  const shell = pickShell(options.shell, process.env);
  const workspace = workspaceDir(stringOption(options.workspace, '--workspace'));
  const port = parseFixedPort(options.port);
  const { target: t, config } = await resolveTarget(home, workspace, port, stringOption(options.config, '--config'));

  const set = SETTERS[shell];
  const where = t.running
    ? t.shared
      ? ` (pid ${t.running.pid}, started for ${t.running.workspace}, with the same config as this workspace)`
      : ` (pid ${t.running.pid}, workspace ${t.running.workspace})`
    : ' (not running yet: `llm-proxy start`)';
  out(`# llm-proxy: point Claude Code at ${t.url}${where}`);
  const keysRequired = config !== undefined && config.auth.keys.length > 0;
  const session = t.running ? await sessionOf(t.running, home) : {};
  for (const variable of claudeEnvVars(t.url, config, { ...session, env: process.env })) {
    if (variable.name === 'ANTHROPIC_AUTH_TOKEN' && keysRequired) {
      out('# This proxy requires a client key: set ANTHROPIC_AUTH_TOKEN to one of its auth.keys (not printed here).');
      continue;
    }
    out(`# ${variable.why}`);
    const own = variable.optional ? process.env[variable.name] : undefined;
    out(own === undefined ? set(variable.name, variable.value) : `# (kept: ${variable.name} is already set in this environment)`);
    if (variable.name === 'OTEL_EXPORTER_OTLP_ENDPOINT' && keysRequired) {
      out("# Its exports need the client key too: set OTEL_EXPORTER_OTLP_HEADERS to 'authorization=Bearer <key>' (not printed here).");
    }
    if (variable.name === 'ANTHROPIC_AUTH_TOKEN' && !config) {
      out('# (config not readable: if the proxy has client keys, set ANTHROPIC_AUTH_TOKEN to one of them)');
    }
  }
  if (process.env.ANTHROPIC_API_KEY) {
    out('# ANTHROPIC_API_KEY is set in this environment; Claude Code would send it too and warn about two credentials:');
    out(`# ${UNSETTERS[shell]('ANTHROPIC_API_KEY')}`);
  }
  if (config) {
    out("# Optional: send Claude Code's model tiers to particular backends (names as in the config):");
    for (const [name, value] of Object.entries(modelTierExamples(config))) out(`# ${set(name, value)}`);
  }
  return 0;
}
