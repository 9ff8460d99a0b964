import pc from 'picocolors';
import { requestSwitch } from '../admin-client.js';
import { CliError } from '../errors.js';
import { listInstances, selectInstance } from '../instances.js';
import { parseFixedPort, stringOption } from '../options.js';
import { llmProxyHome, workspaceDir } from '../paths.js';
import { out } from '../ui.js';

export interface SwitchOptions {
  port?: unknown;
  workspace?: unknown;
}

export async function switchBackend(backend: string, options: SwitchOptions): Promise<number> {
  const home = llmProxyHome();
  const instances = await listInstances(home);
  const instance = selectInstance(instances, {
    workspace: workspaceDir(stringOption(options.workspace, '--workspace')),
    port: parseFixedPort(options.port),
    fallbackToOnly: true,
  });
  if (!instance) {
    throw new CliError('no llm-proxy is running', {
      hints: ['start one with `llm-proxy start`, or set "backend" in the config before starting'],
    });
  }
  const result = await requestSwitch(instance, String(backend), { home });
  if (result.previous === result.active) out(`${pc.bold(result.active)} already is the active backend of ${instance.url}`);
  else out(`${instance.url}: ${result.previous} ${pc.dim('->')} ${pc.bold(pc.green(result.active))}`);
  return 0;
}
