import { spawn } from 'node:child_process';
import pc from 'picocolors';
import { CliError } from '../errors.js';
import { listInstances, selectInstance } from '../instances.js';
import { parseFixedPort, stringOption } from '../options.js';
import { llmProxyHome, workspaceDir } from '../paths.js';
import { err, out } from '../ui.js';

export interface UiOptions {
  port?: unknown;
  workspace?: unknown;
  open?: unknown;
}

/** The system's way to open a URL in the default browser. */
function opener(): { command: string; args: string[] } {
  if (process.platform === 'darwin') return { command: 'open', args: [] };
  if (process.platform === 'win32') return { command: 'cmd', args: ['/c', 'start', ''] };
  return { command: 'xdg-open', args: [] };
}

/** `llm-proxy ui`: the dashboard's URL of the running proxy; `--open` opens it. */
export async function ui(options: UiOptions): Promise<number> {
  const instances = await listInstances(llmProxyHome());
  const instance = selectInstance(instances, {
    workspace: workspaceDir(stringOption(options.workspace, '--workspace')),
    port: parseFixedPort(options.port),
    fallbackToOnly: true,
  });
  if (!instance) throw new CliError('no llm-proxy is running', { hints: ['start one with `llm-proxy start`; the dashboard is at /ui on its port'] });
  const url = `${instance.url}/ui`;
  const answer = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch((error: unknown) => {
    throw new CliError(`the llm-proxy at ${instance.url} does not answer (${error instanceof Error ? error.message : String(error)})`);
  });
  await answer.body?.cancel();
  if (answer.status === 404) {
    throw new CliError(`the llm-proxy at ${instance.url} has no dashboard`, { hints: ['add "dashboard" to `plugins` in its config (it reloads on save)'] });
  }
  out(url);
  if (options.open === true) {
    const { command, args } = opener();
    const child = spawn(command, [...args, url], { stdio: 'ignore', detached: true });
    child.once('error', () => err(pc.yellow(`could not run ${command}: open ${url} in your browser`)));
    child.unref();
  }
  return 0;
}
