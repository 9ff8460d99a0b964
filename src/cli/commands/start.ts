import pc from 'picocolors';
import type { ResolvedConfig } from '../../config/types.js';
import { createLogger, type LogLevel, type RootLogger } from '../../logger.js';
import { servesDashboard } from '../../plugins/builtin.js';
import { VERSION } from '../../version.js';
import { secretsOf } from '../claude-env.js';
import { CliError } from '../errors.js';
import { describeInstance, listInstances } from '../instances.js';
import { loadCliConfig } from '../load-config.js';
import { parsePortOption, stringOption } from '../options.js';
import { llmProxyHome, workspaceDir } from '../paths.js';
import { runProxy } from '../run-proxy.js';
import { watchConfigFile } from '../watch-config.js';
import { configSourceLines, describeBackendConfig, err, out, redisHintLines } from '../ui.js';

export interface StartOptions {
  config?: unknown;
  port?: unknown;
  host?: unknown;
  workspace?: unknown;
  logLevel?: unknown;
  jsonLogs?: boolean;
}

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error', 'silent'];

function parseLogLevel(value: unknown): LogLevel | undefined {
  if (value === undefined) return undefined;
  const level = LOG_LEVELS.find((l) => l === value);
  if (!level) throw new CliError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, { exitCode: 2 });
  return level;
}

export function loggerFor(config: ResolvedConfig, sink?: (line: string) => void): RootLogger {
  const secrets = secretsOf(config);
  return createLogger({ level: config.logLevel, format: config.logFormat, sink, secrets: () => secrets, logFile: config.logFile });
}

/** Runs in the foreground until SIGINT/SIGTERM; resolves to the exit code. */
export async function start(options: StartOptions): Promise<number> {
  const home = llmProxyHome();
  const workspace = workspaceDir(stringOption(options.workspace, '--workspace'));
  const logLevel = parseLogLevel(options.logLevel);
  // Said once: a reload repeats only warnings the last load did not give.
  let configWarnings = new Set<string>();
  const loaded = await loadCliConfig({
    workspace,
    home,
    configFile: stringOption(options.config, '--config'),
    overrides: { port: parsePortOption(options.port), host: stringOption(options.host, '--host') },
    onWarning: (message) => {
      configWarnings.add(message);
      err(`${pc.yellow('warning:')} ${message}`);
    },
  });
  const config: ResolvedConfig = {
    ...loaded,
    logLevel: logLevel ?? loaded.logLevel,
    logFormat: options.jsonLogs ? 'json' : loaded.logFormat,
  };
  let current = config;
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: () => secretsOf(current),
    logFile: config.logFile,
  });
  const twin = (await listInstances(home)).find((i) => i.workspace === workspace);
  if (twin) err(`${pc.yellow('note:')} llm-proxy already runs for this workspace at ${describeInstance(twin)}; starting another`);
  const running = await runProxy({ config, logger, workspace, home }).catch((error: unknown) => {
    logger.close();
    throw error;
  });
  const { record } = running;

  const watcher =
    config.filepath &&
    watchConfigFile(config.filepath, () => {
      const given = new Set<string>();
      loadCliConfig({
        workspace,
        home,
        configFile: config.filepath,
        overrides: { port: parsePortOption(options.port), host: stringOption(options.host, '--host') },
        onWarning: (message) => {
          given.add(message);
          if (!configWarnings.has(message)) logger.warn(message);
        },
      })
        .then(async (next) => {
          const fresh = { ...next, logLevel: current.logLevel, logFormat: current.logFormat };
          await running.proxy.reload(fresh);
          current = fresh;
          configWarnings = given;
        })
        .catch((error: unknown) => {
          const reason = error instanceof Error ? error.message : String(error);
          logger.error(`config edit not applied, the running config stays: ${reason}`);
        });
    });

  // Handlers first, then the banner: whoever reads the banner may signal at once.
  const stopped = new Promise<number>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn(`${signal} again: exiting without waiting for open requests`);
        running.forget();
        process.exit(1);
      }
      stopping = true;
      if (watcher) watcher.close();
      logger.info('shutting down', { signal, graceMs: config.server.shutdownGraceMs });
      const finish = (code: number) => {
        logger.close();
        resolve(code);
      };
      running.stop().then(
        () => finish(0),
        (error: unknown) => {
          logger.error('error while shutting down', { reason: error instanceof Error ? error.message : String(error) });
          finish(1);
        },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (process.platform !== 'win32') process.on('SIGHUP', onSignal);
  });

  const others = Object.keys(config.backends).filter((name) => name !== config.backend);
  const banner = [
    `${pc.green('llm-proxy')} ${VERSION} listening on ${pc.bold(record.url)}${config.port === 'auto' ? pc.dim(" (this workspace's port, kept across restarts)") : ''}`,
    `  backend: ${describeBackendConfig(config, config.backend)}`,
    ...(others.length ? [`  others:  ${others.join(', ')} ${pc.dim('(llm-proxy switch <name>)')}`] : []),
    ...configSourceLines(config),
    ...redisHintLines(config, process.env),
    `  use it:  ${pc.cyan('eval "$(llm-proxy env)"')} then ${pc.cyan('claude')}, or ${pc.cyan('llm-proxy code')}`,
    ...(servesDashboard(config) ? [`  see it:  ${pc.cyan(`${record.url}/ui`)} ${pc.dim('(llm-proxy ui --open)')}`] : []),
    pc.dim('  Ctrl-C to stop'),
  ];
  // One write, so a reader never sees half of it.
  out(banner.join('\n'));
  return stopped;
}
