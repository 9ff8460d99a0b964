// Runs the real Claude Code CLI (`@anthropic-ai/claude-code`, a native binary behind
// node_modules/.bin/claude) headless against a server of ours, in a throw-away HOME, with a clean
// environment: nothing from the developer's own Claude Code setup can leak into a test.

import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the `claude` executable under test: `LLM_PROXY_CLAUDE_BIN`, else the one this repository pins. */
export const claudeBinary: string = process.env.LLM_PROXY_CLAUDE_BIN
  ? resolve(process.env.LLM_PROXY_CLAUDE_BIN)
  : fileURLToPath(new URL('../../node_modules/.bin/claude', import.meta.url));

/**
 * A folder whose `claude` is that binary, for a PATH (`llm-proxy code` runs `claude`): its own
 * folder, or, for a binary of another name (`LLM_PROXY_CLAUDE_BIN=~/claude-2.1.332`), a link.
 */
export const claudeBinDir: string = (() => {
  if (basename(claudeBinary) === 'claude') return dirname(claudeBinary);
  const dir = mkdtempSync(join(tmpdir(), 'llm-proxy-claude-bin-'));
  symlinkSync(claudeBinary, join(dir, 'claude'));
  return dir;
})();

/** True when the CLI is installed and executable here. */
export function claudeAvailable(): boolean {
  try {
    accessSync(claudeBinary, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Tests skip with `describe.skipIf(claudeMissing)` only outside CI: .ci/run sets
 * LLM_PROXY_REQUIRE_FIXTURES=1, and there a missing CLI fails the tests instead.
 */
export const claudeMissing: boolean = !claudeAvailable() && process.env.LLM_PROXY_REQUIRE_FIXTURES !== '1';

export interface RunClaudeOptions {
  /** Origin of the server Claude Code should talk to (becomes ANTHROPIC_BASE_URL). */
  baseUrl: string;
  prompt: string;
  /** HOME for the run; a fresh directory under os.tmpdir() when absent. */
  home?: string;
  /** Working directory; default `<home>/project` (created), so no repository's CLAUDE.md is read. */
  cwd?: string;
  /** ANTHROPIC_API_KEY (default 'test-key'). */
  apiKey?: string;
  /** Appended after `-p <prompt> --output-format json --dangerously-skip-permissions`. */
  extraArgs?: string[];
  /** Added to (and overriding) the clean environment. */
  env?: Record<string, string>;
  /** Kill the whole process group after this long (default 120 000 ms). */
  timeoutMs?: number;
}

export interface RunClaudeResult {
  /** Exit code; null when killed by a signal (e.g. on timeout). */
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it is JSON (with `--output-format json`: the result object). */
  json?: unknown;
  home: string;
  timedOut: boolean;
  durationMs: number;
}

/** Homes this process made; removed when it exits (a caller may reuse one for a second run). */
const madeHomes = new Set<string>();
process.once('exit', () => {
  for (const home of madeHomes) rmSync(home, { recursive: true, force: true });
});

export async function runClaude(opts: RunClaudeOptions): Promise<RunClaudeResult> {
  const home = opts.home ?? mkdtempSync(join(tmpdir(), 'llm-proxy-claude-home-'));
  if (opts.home === undefined) madeHomes.add(home);
  mkdirSync(home, { recursive: true });
  const cwd = opts.cwd ?? join(home, 'project');
  mkdirSync(cwd, { recursive: true });
  const timeoutMs = opts.timeoutMs ?? 120_000;

  // Built from scratch: no inherited ANTHROPIC_*, CLAUDE_*, proxy or OTel variables.
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    TMPDIR: tmpdir(),
    LANG: 'C.UTF-8',
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_API_KEY: opts.apiKey ?? 'test-key',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    // `--dangerously-skip-permissions` refuses to run as root without it.
    IS_SANDBOX: '1',
    DISABLE_AUTOUPDATER: '1',
    ...opts.env,
  };

  const args = ['-p', opts.prompt, '--output-format', 'json', '--dangerously-skip-permissions', ...(opts.extraArgs ?? [])];
  const started = Date.now();
  const child = spawn(claudeBinary, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });

  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (data: string) => (stdout += data));
  child.stderr.setEncoding('utf8').on('data', (data: string) => (stderr += data));

  let timedOut = false;
  const killGroup = (): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, timeoutMs);

  const code = await new Promise<number | null>((resolve) => {
    child.once('error', (err: Error) => {
      stderr += `\n[runClaude] failed to start ${claudeBinary}: ${err.message}`;
      resolve(null);
    });
    child.once('close', (exitCode: number | null) => resolve(exitCode));
  });
  clearTimeout(timer);
  // The CLI may leave helpers behind in its group; never let them outlive the test.
  killGroup();
  if (timedOut) stderr += `\n[runClaude] killed after ${timeoutMs} ms`;

  const result: RunClaudeResult = { code, stdout, stderr, home, timedOut, durationMs: Date.now() - started };
  const trimmed = stdout.trim();
  if (trimmed !== '') {
    try {
      result.json = JSON.parse(trimmed) as unknown;
    } catch {
      // Not JSON (e.g. --output-format text, or a crash): leave json undefined.
    }
  }
  return result;
}

/** The `result` text of a run that must have succeeded; throws with the CLI's stderr otherwise. */
export function claudeResult(run: RunClaudeResult): string {
  const result = run.json as { result?: unknown; is_error?: unknown } | undefined;
  if (run.code !== 0 || result?.is_error !== false || typeof result.result !== 'string') {
    throw new Error(`claude failed (exit ${String(run.code)}${run.timedOut ? ', timed out' : ''}): ${run.stderr || run.stdout}`);
  }
  return result.result;
}
