#!/usr/bin/env node
import { cac } from 'cac';
import { VERSION } from '../version.js';
import { splitCodeArgs } from './code-args.js';
import type { CodeOptions } from './commands/code.js';
import type { EnvOptions } from './commands/env.js';
import type { RecommendOptions } from './commands/recommend.js';
import type { SetupOptions } from './commands/setup.js';
import type { StartOptions } from './commands/start.js';
import type { StatusOptions } from './commands/status.js';
import type { StopOptions } from './commands/stop.js';
import type { UiOptions } from './commands/ui.js';
import type { SwitchOptions } from './commands/switch.js';
import { CliError, reportError } from './errors.js';
import { tuneHeapForStreams } from './heap-tuning.js';
import { recordStarting } from './instances.js';
import { stringOption } from './options.js';
import { STATUS_EXIT_HELP } from './status-exit.js';
import { llmProxyHome, workspaceDir } from './paths.js';

type Action = () => Promise<number>;

/** Builds the CLI; the matched command's action is handed to `run` instead of being awaited by cac. */
function buildCli(argv: readonly string[], run: (action: Action) => void) {
  const cli = cac('llm-proxy');
  const [first, ...rest] = argv;
  const split = first === 'code' ? splitCodeArgs(rest) : undefined;

  cli
    .command('start', 'Run the proxy in the foreground (Ctrl-C stops it)')
    .option('--config <file>', 'Use this config file instead of searching for one')
    .option('--port <port>', 'Port number, or "auto" for this workspace\'s own port, the same on every start (default: from the config, else 8000)')
    .option('--host <host>', 'Address to listen on (default 127.0.0.1; others require auth.keys)')
    .option('--workspace <dir>', 'Directory to find the config from and record the proxy for (default: cwd)')
    .option('--log-level <level>', 'debug, info, warn, error or silent')
    .option('--json-logs', 'Log JSON lines instead of text')
    .example('  $ llm-proxy start --port auto')
    .action((options: StartOptions) =>
      run(async () => {
        // Before the heavy imports, so `llm-proxy env` right after `llm-proxy start &` finds it starting.
        await recordStarting(llmProxyHome(), workspaceDir(stringOption(options.workspace, '--workspace')), VERSION);
        tuneHeapForStreams(process.env, process.execArgv, 'before-load');
        return (await import('./commands/start.js')).start(options);
      }),
    );

  cli
    .command('stop', 'Stop the proxy of this workspace (or the only one running)')
    .option('--all', 'Stop every running proxy')
    .option('--port <port>', 'Stop the proxy on this port')
    .option('--workspace <dir>', 'Stop the proxy started for this directory')
    .action((options: StopOptions) => run(async () => (await import('./commands/stop.js')).stop(options)));

  cli
    .command('status', 'Show the running proxies, their active backend and each backend\'s health (no secrets)')
    .option('--json', 'Print JSON (an array, one entry per running proxy)')
    .action((options: StatusOptions) => run(async () => (await import('./commands/status.js')).status(options)));

  cli
    .command('recommend', 'Say which backend to use now and why (health, rate limits), and the command to switch')
    .option('--json', 'Print JSON')
    .option('--port <port>', 'The proxy on this port')
    .option('--workspace <dir>', "The proxy of this workspace (default: the current directory's)")
    .option('--config <file>', 'When no proxy runs: probe the backends of this config')
    .action((options: RecommendOptions) => run(async () => (await import('./commands/recommend.js')).recommendCommand(options)));

  cli
    .command('setup', 'Write a commented config template (llm-proxy.config.ts)')
    .option('--workspace <dir>', 'Where to write it (default: cwd)')
    .option('--global', 'Write ~/.llm-proxy/config.json instead: settings for every directory, under a project\'s own config')
    .option('--force', 'Overwrite an existing file')
    .action((options: SetupOptions) => run(async () => (await import('./commands/setup.js')).setup(options)));

  cli
    .command('switch <backend>', 'Change the active backend of a running proxy')
    .option('--port <port>', 'The proxy on this port (default: this workspace\'s, or the only one)')
    .option('--workspace <dir>', 'The proxy started for this directory')
    .action((backend: string, options: SwitchOptions) =>
      run(async () => (await import('./commands/switch.js')).switchBackend(backend, options)),
    );

  cli
    .command('ui', "Print the URL of the running proxy's dashboard (--open: open it in the browser)")
    .option('--port <port>', 'The proxy on this port (default: this workspace\'s, or the only one)')
    .option('--workspace <dir>', 'The proxy started for this directory')
    .option('--open', 'Open it in the default browser')
    .action((options: UiOptions) => run(async () => (await import('./commands/ui.js')).ui(options)));

  cli
    .command('env', 'Print the environment variables that point Claude Code at the proxy')
    .option('--port <port>', 'Use the proxy on this port')
    .option('--shell <shell>', 'sh, bash, zsh, fish or powershell (default: from $SHELL)')
    .option('--workspace <dir>', 'Workspace whose proxy and config to use (default: cwd)')
    .option('--config <file>', 'Config file to read the port and client keys from')
    .example('  $ eval "$(llm-proxy env)"')
    .example('  > llm-proxy env --shell fish | source')
    .example('  > llm-proxy env --shell powershell | Invoke-Expression')
    .action((options: EnvOptions) => run(async () => (await import('./commands/env.js')).env(options)));

  cli
    .command('code [...claudeArgs]', 'Run Claude Code through the proxy (starts one for the session if needed)')
    .usage('code [options --] [claude args...]')
    .option('--port <port>', 'Use the running proxy on this port')
    .option('--workspace <dir>', 'Workspace whose proxy and config to use (default: cwd)')
    .option('--config <file>', 'Config file for a proxy started for this session')
    .example('  $ llm-proxy code')
    .example('  $ llm-proxy code -p "explain this repository"')
    .example('  $ llm-proxy code --port 8000 -- --continue')
    .action((_args: string[], options: CodeOptions) =>
      run(async () => {
        tuneHeapForStreams(process.env, process.execArgv, 'before-load');
        return (await import('./commands/code.js')).code(split?.claude ?? [], options);
      }),
    );

  cli.option('-v, --version', 'Print the version');
  cli.help((sections) => {
    sections[0] = { body: `llm-proxy ${VERSION}: run Claude Code on Cerebras, self-hosted GPUs or Ollama` };
    // cac prints a command's description only in the command list; a command's own help says it too.
    const command = cli.matchedCommand;
    if (command && !command.isGlobalCommand) {
      const usage = sections.findIndex((section) => section.title === 'Usage');
      sections.splice(usage + 1, 0, { body: `  ${command.description}` });
    }
    if (cli.matchedCommandName === 'code') {
      sections.push({
        title: 'Arguments',
        body: "  Everything after `code` goes to claude; to give llm-proxy options too, put them first and\n  separate them with `--`. `llm-proxy code -- --help` shows Claude Code's help.",
      });
    }
    if (cli.matchedCommandName === 'status') {
      sections.push({ title: 'Exit status', body: STATUS_EXIT_HELP });
    }
  });
  return { cli, argv: split ? ['code', ...split.ours] : [...argv] };
}

async function main(): Promise<number> {
  let action: Action | undefined;
  const { cli, argv } = buildCli(process.argv.slice(2), (a) => {
    action = a;
  });
  try {
    // cac prints the help itself when --help is given.
    cli.parse(['node', 'llm-proxy', ...argv], { run: false });
    if (cli.options.help) return 0;
    if (cli.options.version) {
      process.stdout.write(`${VERSION}\n`);
      return 0;
    }
    if (!cli.matchedCommand) {
      if (cli.args.length === 0) {
        cli.outputHelp();
        return 0;
      }
      throw new CliError(`unknown command "${cli.args[0]}"`, { exitCode: 2, hints: ['`llm-proxy --help` lists the commands'] });
    }
    cli.runMatchedCommand();
    return action ? await action() : 0;
  } catch (error) {
    return reportError(error);
  }
}

const exitCode = await main();
// Let stdout drain (a pipe) before leaving; open sockets (fetch keep-alive) must not hold the process.
process.stdout.write('', () => process.exit(exitCode));
