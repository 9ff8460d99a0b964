// Runs the `llm-proxy` CLI as users run it: a separate node process (through tsx), a temp home
// (LLM_PROXY_HOME) and a temp workspace as the current directory. Importing this module
// registers an afterEach that stops what a test started and removes its temp directories.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach } from 'vitest';

export const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
// An absolute loader URL, so the CLI can run with a workspace outside the repository as its cwd.
export const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
export const SECRET = 'sk-test-SECRET123';

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  home: string;
  workspace: string;
  env: NodeJS.ProcessEnv;
}

export const cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export function sandbox(config?: unknown): Sandbox {
  const home = tempDir('llm-proxy-home-');
  const workspace = tempDir('llm-proxy-ws-');
  if (config !== undefined) writeFileSync(join(workspace, '.llmrc.json'), JSON.stringify(config));
  const env: NodeJS.ProcessEnv = { ...process.env, LLM_PROXY_HOME: home, NO_COLOR: '1' };
  for (const name of Object.keys(env)) {
    if (/^(LLM_PROXY_(?!HOME)|LLM_BACKEND|ANTHROPIC_|CLAUDE_CODE_|API_TIMEOUT_MS$|FORCE_COLOR|CEREBRAS_API_KEY|REDIS_)/.test(name)) delete env[name];
  }
  return { home, workspace, env };
}

export function spawnCli(box: Sandbox, args: string[], env: NodeJS.ProcessEnv = box.env): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: box.workspace, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function collect(child: ChildProcess): { result: Promise<Result>; stdout: () => string; stderr: () => string } {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const result = new Promise<Result>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { result, stdout: () => stdout, stderr: () => stderr };
}

export function run(box: Sandbox, args: string[], env?: NodeJS.ProcessEnv): Promise<Result> {
  return collect(spawnCli(box, args, env)).result;
}

export interface Started {
  child: ChildProcess;
  url: string;
  result: Promise<Result>;
  stdout: () => string;
  stderr: () => string;
}

/** `llm-proxy start` in the background; resolves once it printed its URL. */
export async function startProxy(box: Sandbox, args: string[] = []): Promise<Started> {
  const child = spawnCli(box, ['start', ...args]);
  const output = collect(child);
  cleanup.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await output.result;
    }
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s\n${output.stdout()}\n${output.stderr()}`)), 20_000);
    child.stdout?.on('data', () => {
      const match = /listening on (http:\/\/\S+)[^]*Ctrl-C to stop/.exec(output.stdout());
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void output.result.then((r) => reject(new Error(`start exited with ${r.code}\n${r.stdout}\n${r.stderr}`)));
  });
  return { child, url, ...output };
}

export async function ask(url: string, stream = false): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 50, stream, messages: [{ role: 'user', content: 'hello' }] }),
  });
  return { status: response.status, text: await response.text() };
}

export const scripted = (text: string) => ({ type: 'scripted', responses: [{ text }] });
export const TWO_BACKENDS = {
  backend: 'main',
  port: 'auto',
  backends: { main: scripted('hi'), other: scripted('from other'), cloud: { type: 'cerebras', apiKey: SECRET } },
};

export const mode = (file: string) => statSync(file).mode & 0o777;

/** Polls `check` (no fixed sleeps) until it holds, or fails after a generous deadline. */
export async function waitUntil(check: () => boolean | Promise<boolean>, what: string, deadlineMs = 15_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export interface StatusEntry {
  url: string;
  reachable: boolean;
  uptimeSeconds?: number;
  active?: string;
  backends?: Array<{ name: string; type: string; health: string; active: boolean }>;
}
export const statusJson = async (box: Sandbox): Promise<{ code: number | null; entries: StatusEntry[] }> => {
  const result = await run(box, ['status', '--json']);
  return { code: result.code, entries: JSON.parse(result.stdout) as StatusEntry[] };
};
export const COMMANDS = ['start', 'stop', 'status', 'recommend', 'setup', 'switch', 'env', 'code'] as const;
