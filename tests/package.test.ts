import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

// What a user gets from `npm install -g llm-proxy`: the packed tarball installed into a fresh
// prefix with only its runtime dependencies, run from an unrelated directory.
describe('the npm package', () => {
  let work: string;
  let bin: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'llm-proxy-pack-'));
    await run('npm', ['pack', '--pack-destination', work], { cwd: root, timeout: 180_000 });
    const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
    const prefix = join(work, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', join(work, tarball)], { cwd: work, timeout: 240_000 });
    bin = join(prefix, 'bin', 'llm-proxy');
  }, 420_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('contains the build output and no tests or sources', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/src/cli/main.js');
    expect(files).toContain('dist/src/index.d.ts');
    expect(files).toContain('dist/plugins/cerebras/index.js');
    expect(files.some((f) => f.startsWith('tests/') || f.startsWith('src/') || f.includes('node_modules'))).toBe(false);
  });

  it('installs a working `llm-proxy` command', async () => {
    const home = join(work, 'home');
    const { stdout: version } = await run(bin, ['--version'], { cwd: work, env: { ...process.env, LLM_PROXY_HOME: home } });
    expect(version.trim()).toMatch(/\d+\.\d+\.\d+/);
    const { stdout: help } = await run(bin, ['--help'], { cwd: work, env: { ...process.env, LLM_PROXY_HOME: home } });
    expect(help).toMatch(/start/);
    expect(help).toMatch(/switch/);
  });

  it('`llm-proxy start` serves a request from any directory', async () => {
    const project = mkdtempSync(join(work, 'project-'));
    writeFileSync(
      join(project, '.llmrc.json'),
      JSON.stringify({ backend: 'canned', port: 'auto', backends: { canned: { type: 'scripted', responses: [{ text: 'installed and working' }] } } }),
    );
    const child = spawn(bin, ['start'], { cwd: project, env: { ...process.env, LLM_PROXY_HOME: join(work, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
        const onData = (chunk: Buffer) => {
          out += chunk.toString();
          const match = /http:\/\/127\.0\.0\.1:\d+/.exec(out);
          if (match) {
            clearTimeout(timer);
            resolve(match[0]);
          }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
      });
      const res = await fetch(`${url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(((await res.json()) as { content: Array<{ text: string }> }).content[0]!.text).toBe('installed and working');
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
});
