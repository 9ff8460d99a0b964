import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** The home directory the CLI uses: `LLM_PROXY_HOME` if set (tests, sandboxes), else the user's. */
export function llmProxyHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.LLM_PROXY_HOME?.trim();
  return fromEnv ? resolve(fromEnv) : homedir();
}

/** `<home>/.llm-proxy`: global config, instance records, logs. */
export const stateDir = (home: string): string => join(home, '.llm-proxy');
export const instancesDir = (home: string): string => join(stateDir(home), 'instances');
export const logsDir = (home: string): string => join(stateDir(home), 'logs');
/** Each workspace's `port: "auto"` port, one file per workspace (see workspace-port.ts). */
export const portsDir = (home: string): string => join(stateDir(home), 'ports');

/** The workspace a command acts for: `--workspace DIR` (relative to the cwd) or the cwd. */
export const workspaceDir = (option: string | undefined, cwd: string = process.cwd()): string => resolve(cwd, option ?? '.');
