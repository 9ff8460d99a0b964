import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import pc from 'picocolors';
import { globalConfigPath } from '../../config/load.js';
import { CliError } from '../errors.js';
import { stringOption } from '../options.js';
import { llmProxyHome, workspaceDir } from '../paths.js';
import { GLOBAL_TEMPLATE, WORKSPACE_TEMPLATE } from '../templates.js';
import { err, out } from '../ui.js';

export interface SetupOptions {
  workspace?: unknown;
  force?: boolean;
  global?: boolean;
}

async function writeConfig(file: string, content: string, force: boolean): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  try {
    // 'wx' refuses atomically when the file exists.
    await writeFile(file, content, { mode: 0o600, flag: force ? 'w' : 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new CliError(`${file} already exists; not overwriting it`, { hints: ['pass --force to replace it with the template'] });
    }
    throw error;
  }
  // An existing file keeps its old mode on overwrite; the template may come to hold keys.
  await chmod(file, 0o600);
}

/** Project configs the loader finds before llm-proxy.config.ts in the same directory. */
async function shadowingConfigs(workspace: string): Promise<string[]> {
  const found = ['.llmrc.json', '.llmrc'].map((name) => join(workspace, name)).filter((file) => existsSync(file));
  const pkgFile = join(workspace, 'package.json');
  const pkg = await readFile(pkgFile, 'utf8').then((text) => JSON.parse(text) as unknown, () => undefined);
  if (pkg !== null && typeof pkg === 'object' && 'llm-proxy' in pkg) found.unshift(`${pkgFile} ("llm-proxy" key)`);
  return found;
}

export async function setup(options: SetupOptions): Promise<number> {
  const force = options.force === true;
  if (options.global) {
    const file = globalConfigPath(llmProxyHome());
    await writeConfig(file, JSON.stringify(GLOBAL_TEMPLATE, null, 2) + '\n', force);
    out(`${pc.green('created')} ${file} ${pc.dim('(mode 0600)')}`);
    const { port } = GLOBAL_TEMPLATE;
    const { url } = GLOBAL_TEMPLATE.backends.ollama;
    out(`  It applies in every directory: the proxy listens on port ${port} and sends requests to`);
    out(`  a local Ollama at ${url}; a project's own config overrides these settings and adds its backends.`);
    out();
    out('Next steps:');
    out(`  ollama pull ${GLOBAL_TEMPLATE.backends.ollama.model}`);
    out(`  ${pc.cyan('llm-proxy start')}`);
    out(`  ${pc.cyan('eval "$(llm-proxy env)"')} in the shell where you run claude, or ${pc.cyan('llm-proxy code')}`);
    return 0;
  }

  const workspace = workspaceDir(stringOption(options.workspace, '--workspace'));
  const file = join(workspace, 'llm-proxy.config.ts');
  await writeConfig(file, WORKSPACE_TEMPLATE, force);
  out(`${pc.green('created')} ${file} ${pc.dim('(mode 0600)')}`);
  for (const other of await shadowingConfigs(workspace)) {
    err(`${pc.yellow('note:')} ${other} is found before llm-proxy.config.ts; remove it or move its settings over`);
  }
  out();
  out('Next steps:');
  out(`  export CEREBRAS_API_KEY=...   ${pc.dim('# from https://cloud.cerebras.ai (or switch to the ollama backend)')}`);
  out(`  ${pc.cyan('llm-proxy start')}`);
  out(`  ${pc.cyan('eval "$(llm-proxy env)"')} in the shell where you run claude, or ${pc.cyan('llm-proxy code')}`);
  return 0;
}
