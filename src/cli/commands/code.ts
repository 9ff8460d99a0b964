import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { constants } from 'node:os';
import { join } from 'node:path';
import pc from 'picocolors';
import type { ResolvedConfig } from '../../config/types.js';
import { claudeEnv, sessionOf } from '../claude-env.js';
import { CliError } from '../errors.js';
import { findExecutable } from '../find-executable.js';
import { listInstances, selectInstance } from '../instances.js';
import { loadCliConfig } from '../load-config.js';
import { parseFixedPort, stringOption } from '../options.js';
import { llmProxyHome, logsDir, workspaceDir } from '../paths.js';
import { runProxy, type RunningProxy } from '../run-proxy.js';
import { describeBackendConfig, err } from '../ui.js';
import { loggerFor } from './start.js';

export interface CodeOptions {
  port?: unknown;
  workspace?: unknown;
  config?: unknown;
}

/** The proxy for this session: its own log file, so the log does not draw over Claude Code's screen. */
async function startInProcess(config: ResolvedConfig, workspace: string, home: string): Promise<RunningProxy> {
  await mkdir(logsDir(home), { recursive: true, mode: 0o700 });
  const logFile = join(logsDir(home), `code-${process.pid}.log`);
  const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
  const logger = loggerFor(config, (line) => log.write(line + '\n'));
  const running = await runProxy({ config, logger, workspace, home });
  err(`${pc.green('llm-proxy')} ${running.record.url} for this session, backend ${describeBackendConfig(config, config.backend)}`);
  err(pc.dim(`  log: ${logFile}`));
  return {
    ...running,
    stop: () =>
      running.stop().finally(() => {
        logger.close();
        log.end();
      }),
  };
}

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 1) : 1);
}

export async function code(claudeArgs: readonly string[], options: CodeOptions): Promise<number> {
  const home = llmProxyHome();
  const workspace = workspaceDir(stringOption(options.workspace, '--workspace'));
  const port = parseFixedPort(options.port);
  const configFile = stringOption(options.config, '--config');

  const claude = findExecutable('claude');
  if (!claude) {
    throw new CliError('Claude Code (`claude`) is not on your PATH', {
      exitCode: 127,
      hints: ['install it: npm install -g @anthropic-ai/claude-code'],
    });
  }

  const instances = await listInstances(home);
  const existing = port === undefined ? selectInstance(instances, { workspace, fallbackToOnly: false }) : instances.find((i) => i.port === port);
  if (port !== undefined && !existing) throw new CliError(`no llm-proxy is running on port ${port}`);

  let config: ResolvedConfig | undefined;
  let own: RunningProxy | undefined;
  let url: string;
  if (existing) {
    config = await loadCliConfig({ workspace, home, configFile, quiet: true }).catch(() => undefined);
    url = existing.url;
    err(pc.dim(`llm-proxy: using ${url} (pid ${existing.pid})`));
  } else {
    config = await loadCliConfig({ workspace, home, configFile, overrides: { port: 'auto' } });
    own = await startInProcess(config, workspace, home);
    url = own.record.url;
  }

  const session = await sessionOf(existing ?? own!.record, home);
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...claudeEnv(url, process.env, config, session) };
  if (session.contextWindow !== undefined) err(pc.dim(`  context window: ${session.contextWindow} tokens (backend ${session.active})`));
  const key = process.env.LLM_PROXY_API_KEY ?? config?.auth.keys[0];
  if (key) {
    childEnv.ANTHROPIC_AUTH_TOKEN = key;
    // Its telemetry exports go to the proxy too, which wants the key on every route.
    if (childEnv.OTEL_EXPORTER_OTLP_ENDPOINT === url) childEnv.OTEL_EXPORTER_OTLP_HEADERS = `authorization=Bearer ${key}`;
  }
  // Claude Code would also send a real Anthropic key, and warn about two credentials.
  delete childEnv.ANTHROPIC_API_KEY;

  const child = spawn(claude, [...claudeArgs], {
    stdio: 'inherit',
    env: childEnv,
    shell: process.platform === 'win32' && /\.(cmd|bat)$/i.test(claude),
  });
  // Ctrl-C belongs to Claude Code (it reaches the whole process group); other signals are passed on.
  const ignore = () => undefined;
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  if (process.platform !== 'win32') process.on('SIGHUP', forward);

  const exitCode = await new Promise<number>((resolve, reject) => {
    child.once('error', (error) => reject(new CliError(`could not run ${claude}: ${error.message}`)));
    child.once('exit', (exit, signal) => resolve(exitCodeOf(exit, signal)));
  }).finally(async () => {
    process.off('SIGINT', ignore);
    process.off('SIGTERM', forward);
    process.off('SIGHUP', forward);
    await own?.stop();
  });
  return exitCode;
}
