import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify, stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const PACKAGE = '@jleechan/llm-proxy-server';
const repoPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
const versionOf = (name: string) => (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;

/** The package's own files (not its dependencies) under `dir`, relative, with `/` separators. */
function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .filter((file) => !file.startsWith('node_modules/'));
}

/** Markdown link targets that are paths (not URLs, not anchors), without their `#fragment`. */
function relativeLinks(markdown: string): string[] {
  const targets = [...markdown.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]!);
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith('#')).map((t) => t.split('#')[0]!);
}

interface Started {
  url: string;
  output: () => string;
  stop: () => Promise<void>;
}

// What a user gets from `npm install -g @jleechan/llm-proxy-server`: the packed tarball installed
// into a fresh prefix with only its runtime dependencies, run from an unrelated directory.
describe('the npm package', () => {
  let work: string;
  let tarball: string;
  let prefix: string;
  let bin: string;
  let installed: string;
  let home: string;
  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'llm-proxy-pack-'));
    await run('npm', ['pack', '--pack-destination', work], { cwd: root, timeout: 180_000 });
    tarball = join(work, readdirSync(work).find((f) => f.endsWith('.tgz'))!);
    prefix = join(work, 'prefix');
    await run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: work, timeout: 240_000 });
    bin = join(prefix, 'bin', 'llm-proxy');
    installed = join(prefix, 'lib', 'node_modules', PACKAGE);
    home = join(work, 'home');
    mkdirSync(home);
  }, 420_000);
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  // A fresh HOME and LLM_PROXY_HOME: nothing from this machine's ~/.llm-proxy leaks in.
  const userEnv = (extra: Record<string, string> = {}) => ({ ...process.env, HOME: home, LLM_PROXY_HOME: home, ...extra });

  /** `llm-proxy start ...args` in `cwd`, until it prints its URL. */
  async function start(cwd: string, args: string[] = [], env: Record<string, string> = {}): Promise<Started> {
    const child = spawn(bin, ['start', ...args], { cwd, env: userEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let raw = '';
    let out = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const url = await new Promise<string>((resolve, reject) => {
      // Shorter than the test's own timeout, so a failure shows what the CLI printed.
      const timer = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20_000);
      // Colour is on where CI is set (as picocolors and chalk do), so match the text without it.
      const onData = (chunk: Buffer) => {
        raw += chunk.toString();
        out = stripVTControlCharacters(raw);
        const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    return {
      url,
      output: () => out,
      stop: async () => {
        child.kill('SIGTERM');
        await exited;
      },
    };
  }

  const emptyProject = () => mkdtempSync(join(home, 'project-'));
  const scripted = (text: string) => `backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: '${text}' }] } }`;

  async function ask(url: string): Promise<string> {
    const res = await fetch(`${url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
    });
    return ((await res.json()) as { content: Array<{ text: string }> }).content[0]!.text;
  }

  it('is @jleechan/llm-proxy-server, public, with the llm-proxy command', async () => {
    expect(repoPackage.name).toBe(PACKAGE);
    expect(tarball.endsWith(`jleechan-llm-proxy-server-${repoPackage.version}.tgz`)).toBe(true);
    const packed = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(packed).toMatchObject({ name: PACKAGE, bin: { 'llm-proxy': 'dist/src/cli/main.js' }, publishConfig: { access: 'public' }, license: 'MIT' });
    expect(existsSync(bin)).toBe(true);
  });

  it('contains the build output, the license and the linked docs, and no tests or sources', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root });
    const [pack] = JSON.parse(stdout) as Array<{ name: string; files: Array<{ path: string }> }>;
    expect(pack!.name).toBe(PACKAGE);
    const files = pack!.files.map((f) => f.path);
    expect(files).toContain('dist/src/cli/main.js');
    expect(files).toContain('dist/src/index.d.ts');
    expect(files).toContain('dist/plugins/cerebras/index.js');
    expect(files).toContain('LICENSE');
    expect(files.some((f) => f.startsWith('tests/') || f.includes('node_modules'))).toBe(false);
    // Of the sources, only the plugins' READMEs, which the README links to.
    expect(files.filter((f) => (f.startsWith('plugins/') || f.startsWith('src/')) && !f.endsWith('README.md'))).toEqual([]);
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const linked = [...readme.matchAll(/\]\((?!https?:|#)([^)#]+\.md)(?:#[^)]*)?\)/g)].map((m) => m[1]!);
    expect(linked.length).toBeGreaterThan(0);
    expect(linked.filter((link) => !files.includes(link))).toEqual([]);
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) /);
  });

  it('ships no source map that points at a file it does not ship', () => {
    const files = new Set(listFiles(installed));
    const broken: string[] = [];
    for (const file of files) {
      if (!/\.(c|m)?js$|\.d\.ts$/.test(file)) continue;
      const mapRef = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(join(installed, file), 'utf8'))?.[1];
      if (!mapRef) continue;
      const mapFile = relative(installed, resolve(installed, dirname(file), mapRef)).split('\\').join('/');
      if (!files.has(mapFile)) {
        broken.push(`${file} -> ${mapRef}`);
        continue;
      }
      const map = JSON.parse(readFileSync(join(installed, mapFile), 'utf8')) as { sources: string[]; sourceRoot?: string };
      for (const source of map.sources) {
        const shipped = relative(installed, resolve(installed, dirname(mapFile), map.sourceRoot ?? '', source)).split('\\').join('/');
        if (!files.has(shipped)) broken.push(`${mapFile} -> ${source}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every relative link in the shipped README and docs resolves to a file in the package', () => {
    const files = listFiles(installed);
    const markdown = files.filter((f) => f.endsWith('.md'));
    expect(markdown).toEqual(expect.arrayContaining(['README.md', 'deploy/README.md', 'docs/CACHE.md', 'plugins/redis-cache/README.md']));
    const readmeLinks = relativeLinks(readFileSync(join(installed, 'README.md'), 'utf8'));
    expect(readmeLinks.length).toBeGreaterThan(3);
    const missing: string[] = [];
    for (const doc of markdown) {
      for (const link of relativeLinks(readFileSync(join(installed, doc), 'utf8'))) {
        const target = relative(installed, resolve(installed, dirname(doc), link)).split('\\').join('/');
        const found = files.includes(target) || files.some((f) => f.startsWith(`${target.replace(/\/$/, '')}/`));
        if (!found) missing.push(`${doc}: ${link}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('installs a working `llm-proxy` command that knows its version', async () => {
    const { stdout: version } = await run(bin, ['--version'], { cwd: work, env: userEnv() });
    expect(version).toContain(repoPackage.version);
    const { stdout: help } = await run(bin, ['--help'], { cwd: work, env: userEnv() });
    expect(help).toMatch(/start/);
    expect(help).toMatch(/switch/);
  });

  it('`llm-proxy start` serves a request from any directory', async () => {
    const project = emptyProject();
    writeFileSync(
      join(project, '.llmrc.json'),
      JSON.stringify({ backend: 'canned', port: 'auto', backends: { canned: { type: 'scripted', responses: [{ text: 'installed and working' }] } } }),
    );
    const proxy = await start(project);
    try {
      expect(await ask(proxy.url)).toBe('installed and working');
      // The dashboard's page and its assets ship in the tarball.
      for (const [path, type] of [['/ui', 'text/html'], ['/ui/assets/app.js', 'text/javascript'], ['/ui/assets/style.css', 'text/css']] as const) {
        const res = await fetch(`${proxy.url}${path}`);
        expect(res.status, path).toBe(200);
        expect(res.headers.get('content-type'), path).toContain(type);
        expect((await res.text()).length, path).toBeGreaterThan(500);
      }
    } finally {
      await proxy.stop();
    }
  });

  it("the README's llm-proxy.config.ts, copied verbatim into an empty folder, works with `llm-proxy start`", async () => {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    const example = /```ts\n(\/\/ llm-proxy\.config\.ts\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain(`import { defineConfig } from '${PACKAGE}';`);
    const project = emptyProject();
    writeFileSync(join(project, 'llm-proxy.config.ts'), example!);
    // Its fixed port 8000 may be taken on a shared machine; the flag is the only change.
    const proxy = await start(project, ['--port', 'auto'], { CEREBRAS_API_KEY: 'csk-test-key' });
    try {
      expect(proxy.output()).toContain(join(project, 'llm-proxy.config.ts'));
      const info = (await (await fetch(`${proxy.url}/`)).json()) as { active: string };
      expect(info.active).toBe('cerebras');
      const counted = await fetch(`${proxy.url}/v1/messages/count_tokens`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'hello there' }] }),
      });
      expect(counted.status).toBe(200);
      expect(proxy.output()).not.toMatch(/Cannot find module|could not load/);
    } finally {
      await proxy.stop();
    }
  });

  it('the echo provider example, copied from the package into an empty folder, runs with only the global install', async () => {
    // Its files import `${PACKAGE}/plugin`, which nothing next to them provides: the running CLI's own surface answers.
    const project = emptyProject();
    for (const name of ['index.ts', 'options.ts', 'llm-proxy.config.ts']) {
      writeFileSync(join(project, name), readFileSync(join(installed, 'examples', 'echo-provider', name), 'utf8'));
    }
    const proxy = await start(project);
    try {
      const response = await fetch(`${proxy.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'from the tarball' }] }),
      });
      expect(response.status, proxy.output()).toBe(200);
      expect(((await response.json()) as { content: Array<{ text: string }> }).content[0]?.text).toBe('echo: from the tarball');
      expect(proxy.output()).not.toMatch(/Cannot find module|could not load|warning/i);
    } finally {
      await proxy.stop();
    }
  });

  it("a config importing the old name 'llm-proxy' still works, with a deprecation warning", async () => {
    const project = emptyProject();
    const file = join(project, 'llm-proxy.config.ts');
    writeFileSync(file, `import { defineConfig } from 'llm-proxy';\nexport default defineConfig({ port: 'auto', ${scripted('old name works')} });\n`);
    const proxy = await start(project);
    try {
      expect(await ask(proxy.url)).toBe('old name works');
      expect(proxy.output()).toContain(`${file} (or a file it imports) imports 'llm-proxy', the package's old name, which is deprecated`);
      expect(proxy.output()).toContain(`import from '${PACKAGE}' instead`);
    } finally {
      await proxy.stop();
    }
  });

  it('a syntax error in llm-proxy.config.ts names the file, line and column, and not the key', async () => {
    const project = emptyProject();
    const file = join(project, 'llm-proxy.config.ts');
    const text = `export default {\n  backends: {\n    c: { type: 'cerebras', apiKey: 'csk-do-not-print-me' model: 'x' },\n  },\n};\n`;
    writeFileSync(file, text);
    const column = text.split('\n')[2]!.indexOf('model') + 1;
    const failed = await run(bin, ['start'], { cwd: project, env: userEnv() }).then(
      () => undefined,
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toContain(`${file}: could not load: syntax error at line 3, column ${column}: Unexpected token, expected ","`);
    expect(failed!.stderr + failed!.stdout).not.toContain('do-not-print-me');
  });

  it('its public types compile with skipLibCheck: false, with only typescript and @types/node installed', async () => {
    const project = join(work, 'typed-project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'typed-project', private: true, type: 'module' }));
    const deps = [tarball, `typescript@${versionOf('typescript')}`, `@types/node@${versionOf('@types/node')}`];
    await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...deps], { cwd: project, timeout: 240_000 });
    // A user's strict tsconfig; no `types`, so every installed @types package is checked too.
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true },
        include: ['*.ts'],
      }),
    );
    writeFileSync(
      join(project, 'index.ts'),
      `import { createProxy, defineConfig, ProxyError } from '${PACKAGE}';
import type { Backend, BackendCommon, Plugin, PluginApi, ProviderResponse, UpstreamCall, UserConfig } from '${PACKAGE}';

// A third-party provider type joins the config types by declaration merging.
declare module '${PACKAGE}' {
  interface BackendTypes {
    echo: BackendCommon & { type: 'echo' };
  }
}

function echo(): Plugin {
  return {
    name: 'echo',
    apply(api: PluginApi) {
      api.providers.register('echo', (spec): Backend => ({
        name: spec.name,
        type: spec.type,
        resolveModel: (requested) => requested,
        async invoke(call: UpstreamCall): Promise<ProviderResponse> {
          if (call.request.messages.length === 0) throw new ProxyError('empty', { code: 'empty', type: 'invalid_request_error' });
          return { kind: 'message', message: { id: 'msg_1', type: 'message', role: 'assistant', model: call.model, content: [{ type: 'text', text: 'hi' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } };
        },
        health: async () => ({ status: 'ok' }),
        describe: () => ({ type: 'echo' }),
      }));
      api.router.get('/echo', (ctx) => {
        ctx.body = { ok: true };
      });
      api.use(async (_ctx, next) => {
        await next();
      });
    },
  };
}

const config: UserConfig = defineConfig({ backend: 'e', backends: { e: { type: 'echo' } }, plugins: [echo()] });
export default config;

const proxy = await createProxy(config);
await proxy.listen(0);
await proxy.close();
`,
    );
    // The plugin surface, as a provider written against it uses it: a schema, its type, a registration.
    writeFileSync(
      join(project, 'surface.ts'),
      `import { defineConfig } from '${PACKAGE}';
import { backendOptions, createModelResolver, z, type BackendEntryOf, type Plugin } from '${PACKAGE}/plugin';

const shoutOptions = backendOptions({ loud: z.boolean().optional() });

interface ShoutBackendConfig extends BackendEntryOf<typeof shoutOptions> {
  type: 'shout';
}

declare module '${PACKAGE}/plugin' {
  interface BackendTypes {
    shout: ShoutBackendConfig;
  }
}

export const shout = (): Plugin => ({
  name: 'shout',
  apply({ providers }) {
    providers.register('shout', {
      options: shoutOptions,
      create: (spec) => ({
        name: spec.name,
        type: spec.type,
        resolveModel: createModelResolver(spec.options),
        invoke: async (call) => ({ kind: 'message', message: { id: 'm', type: 'message', role: 'assistant', model: call.model, content: [{ type: 'text', text: spec.options.loud ? 'HI' : 'hi' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } }),
        health: async () => ({ status: 'ok' }),
        describe: () => ({ type: 'shout' }),
      }),
    });
  },
});

export const shoutConfig = defineConfig({ backend: 's', backends: { s: { type: 'shout', loud: true, model: 'm' } }, plugins: [shout()] });
`,
    );
    expect(existsSync(join(project, 'node_modules', '@types', 'node'))).toBe(true);
    const tsc = await run(process.execPath, [join(project, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project], { cwd: project }).then(
      (r) => ({ code: 0, out: r.stdout + r.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
    );
    expect(tsc.out).toBe('');
    expect(tsc.code).toBe(0);
  }, 300_000);
});
