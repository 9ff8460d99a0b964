import pc from 'picocolors';
import { ConfigError } from '../errors.js';

/** An expected failure: printed as a message (plus hints), never as a stack trace. */
export class CliError extends Error {
  readonly exitCode: number;
  readonly hints: string[];
  constructor(message: string, options: { exitCode?: number; hints?: string[] } = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? 1;
    this.hints = options.hints ?? [];
  }
}

/** Prints any thrown value for a person and returns the exit code to use. */
export function reportError(error: unknown, env: NodeJS.ProcessEnv = process.env): number {
  const write = (line: string) => process.stderr.write(line + '\n');
  if (error instanceof CliError) {
    write(`${pc.red('error:')} ${error.message}`);
    for (const hint of error.hints) write(`  ${pc.dim('→')} ${hint}`);
    return error.exitCode;
  }
  if (error instanceof ConfigError) {
    write(`${pc.red('config error:')} ${error.message}`);
    return 1;
  }
  // cac's own usage errors (unknown option, missing argument).
  if (error instanceof Error && error.name === 'CACError') {
    write(`${pc.red('error:')} ${error.message}`);
    write(`  ${pc.dim('→')} run with --help to see the usage`);
    return 2;
  }
  const message = error instanceof Error ? error.message : String(error);
  write(`${pc.red('unexpected error:')} ${message}`);
  if (env.LLM_PROXY_DEBUG && error instanceof Error && error.stack) write(pc.dim(error.stack));
  else write(pc.dim('  (set LLM_PROXY_DEBUG=1 to see the stack trace; please include it in a bug report)'));
  return 1;
}
