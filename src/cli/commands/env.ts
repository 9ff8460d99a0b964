import { basename } from 'node:path';
import type { ResolvedConfig } from '../../config/types.js';
import { claudeEnv, modelTierExamples } from '../claude-env.js';
import { CliError } from '../errors.js';
import { listInstances, selectInstance } from '../instances.js';
import { loadCliConfig, parseFixedPort, stringOption } from '../load-config.js';
import { llmProxyHome, workspaceDir } from '../paths.js';
import { out } from '../ui.js';

export interface EnvOptions {
  port?: unknown;
  shell?: unknown;
  workspace?: unknown;
  config?: unknown;
}

type Shell = 'sh' | 'fish' | 'powershell';
const SHELLS: readonly Shell[] = ['sh', 'fish', 'powershell'];

function pickShell(option: unknown, env: NodeJS.ProcessEnv): Shell {
  if (option !== undefined) {
    const shell = SHELLS.find((s) => s === option);
    if (!shell) throw new CliError(`--shell must be one of ${SHELLS.join(', ')}`, { exitCode: 2 });
    return shell;
  }
  if (env.SHELL && basename(env.SHELL) === 'fish') return 'fish';
  if (process.platform === 'win32' && !env.SHELL) return 'powershell';
  return 'sh';
}

const SETTERS: Record<Shell, (name: string, value: string) => string> = {
  sh: (name, value) => `export ${name}='${value.replaceAll("'", `'\\''`)}'`,
  fish: (name, value) => `set -gx ${name} '${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`,
  powershell: (name, value) => `$env:${name} = '${value.replaceAll("'", "''")}'`,
};

const UNSETTERS: Record<Shell, (name: string) => string> = {
  sh: (name) => `unset ${name}`,
  fish: (name) => `set -e ${name}`,
  powershell: (name) => `Remove-Item Env:${name}`,
};

export async function env(options: EnvOptions): Promise<number> {
  const home = llmProxyHome();
  const shell = pickShell(options.shell, process.env);
  const workspace = workspaceDir(stringOption(options.workspace, '--workspace'));
  const port = parseFixedPort(options.port);

  const instances = await listInstances(home);
  const running = port === undefined ? selectInstance(instances, { workspace, fallbackToOnly: false }) : instances.find((i) => i.port === port);

  let config: ResolvedConfig | undefined;
  try {
    config = await loadCliConfig({ workspace, home, configFile: stringOption(options.config, '--config'), quiet: true });
  } catch (error) {
    // The URL of a running proxy is still useful with a broken config; without one there is nothing to print.
    if (!running && port === undefined) throw error;
  }

  let url = running?.url;
  if (!url && port !== undefined) url = `http://127.0.0.1:${port}`;
  if (!url && config) {
    if (config.port === 'auto') {
      throw new CliError(`no llm-proxy is running for ${workspace}, and its config picks a port automatically`, {
        hints: ['start it first (`llm-proxy start`), then run `llm-proxy env` again', 'or use `llm-proxy code`, which starts one for the session'],
      });
    }
    url = `http://127.0.0.1:${config.port}`;
  }
  if (!url) throw new CliError('cannot tell which URL the proxy has');

  const set = SETTERS[shell];
  const vars = claudeEnv(url);
  const keysRequired = config !== undefined && config.auth.keys.length > 0;
  out(`# llm-proxy: point Claude Code at ${url}${running ? '' : ' (not running yet: `llm-proxy start`)'}`);
  out(set('ANTHROPIC_BASE_URL', vars.ANTHROPIC_BASE_URL));
  if (keysRequired) {
    out('# This proxy requires a client key: set ANTHROPIC_AUTH_TOKEN to one of its auth.keys (not printed here).');
  } else {
    out(set('ANTHROPIC_AUTH_TOKEN', vars.ANTHROPIC_AUTH_TOKEN));
    if (!config) out('# (config not readable: if the proxy has client keys, set ANTHROPIC_AUTH_TOKEN to one of them)');
  }
  out(set('CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC', vars.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC));
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
