// The `llm-proxy` CLI as a separate node process (through tsx), with its own home
// (LLM_PROXY_HOME) and workspace, for tests that need `start` and then another command.

import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  result: Promise<CliResult>;
}

export function spawnCli(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): CliProcess {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<CliResult>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, stdout: () => stdout, stderr: () => stderr, result };
}

/** `llm-proxy start` in the background; resolves with its URL once it printed its banner. */
export async function startCli(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CliProcess & { url: string }> {
  const started = spawnCli(['start', ...args], opts);
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 30 s\n${started.stdout()}\n${started.stderr()}`)), 30_000);
    started.child.stdout?.on('data', () => {
      const match = /listening on (http:\/\/\S+)[^]*Ctrl-C to stop/.exec(started.stdout());
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void started.result.then((r) => {
      clearTimeout(timer);
      reject(new Error(`start exited with ${r.code}\n${r.stdout}\n${r.stderr}`));
    });
  });
  return { ...started, url };
}

/** SIGTERM, then waits for the exit. */
export async function stopCli(process: CliProcess): Promise<CliResult> {
  if (process.child.exitCode === null && process.child.signalCode === null) process.child.kill('SIGTERM');
  return process.result;
}
