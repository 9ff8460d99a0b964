import pc from 'picocolors';
import type { ResolvedConfig, UserConfig } from '../config/types.js';
import { loadConfig } from '../plugins/builtin.js';

export interface CliConfigOptions {
  workspace: string;
  home: string;
  configFile?: string | undefined;
  overrides?: Partial<Pick<UserConfig, 'port' | 'host' | 'backend'>>;
  /** Drop warnings (for look-ups done on the side, e.g. finding a client key). */
  quiet?: boolean;
  /** Where warnings go (default: stderr). */
  onWarning?: (message: string) => void;
  env?: NodeJS.ProcessEnv;
}

export function loadCliConfig(options: CliConfigOptions): Promise<ResolvedConfig> {
  return loadConfig({
    cwd: options.workspace,
    configFile: options.configFile,
    env: options.env ?? process.env,
    home: options.home,
    overrides: options.overrides ?? {},
    onWarning: options.quiet
      ? () => undefined
      : (options.onWarning ?? ((message) => process.stderr.write(`${pc.yellow('warning:')} ${message}\n`))),
  });
}
