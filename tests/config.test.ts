import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseBodyLimit } from '../src/config/body-limit.js';
import { defineConfig, type UserConfigExport } from '../src/config/define-config.js';
import { interpolate } from '../src/config/interpolate.js';
import type { LoadConfigOptions, PluginResolver } from '../src/config/load.js';
import { createProxy, loadConfig, resolveUserConfig } from '../src/index.js';
import { validateUserConfig } from '../src/config/schema.js';
import { ConfigError } from '../src/errors.js';
import type { Plugin } from '../src/kernel/types.js';
import type { ResolvedConfig, UserConfig } from '../src/config/types.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

let root: string;
let home: string;
let project: string;
let warnings: string[];

beforeEach(async () => {
  // The project sits under the fake home, so the upward search stops inside the temp tree.
  root = await mkdtemp(join(tmpdir(), 'llm-proxy-config-'));
  home = join(root, 'home');
  project = join(home, 'work', 'project');
  await mkdir(project, { recursive: true });
  warnings = [];
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function write(path: string, content: unknown): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

function load(opts: LoadConfigOptions = {}) {
  return loadConfig({ cwd: project, home, env: {}, onWarning: (m) => warnings.push(m), ...opts });
}

async function loadError(opts: LoadConfigOptions = {}): Promise<ConfigError> {
  const error: unknown = await load(opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

const plugin = (name: string): Plugin => ({ name, apply() {} });

/** The ConfigError a proxy built from `config` fails to start with. */
async function startError(config: UserConfig | ResolvedConfig): Promise<ConfigError> {
  const proxy = await createProxy(config, { logSink: () => undefined }).catch((error: unknown) => error);
  if (proxy instanceof ConfigError) return proxy;
  if (proxy instanceof Error) throw proxy;
  await (proxy as { close(): Promise<void> }).close();
  throw new Error('the proxy started');
}
const backends = { local: { type: 'openai', url: 'http://localhost:9000/v1' } } satisfies UserConfig['backends'];

describe('finding the config file', () => {
  it('finds .llmrc.json from a subdirectory', async () => {
    const file = await write(join(project, '.llmrc.json'), { port: 9001, backends });
    await mkdir(join(project, 'src', 'deep'), { recursive: true });
    const config = await load({ cwd: join(project, 'src', 'deep') });
    expect(config.port).toBe(9001);
    expect(config.backend).toBe('local');
    expect(config.filepath).toBe(file);
    expect(config.sources).toEqual([file]);
  });

  it('reads the llm-proxy key of package.json', async () => {
    await write(join(project, 'package.json'), { name: 'x', 'llm-proxy': { port: 9002, backends } });
    expect((await load()).port).toBe(9002);
  });

  it('skips a package.json without the key and reads .llmrc (JSON, no extension)', async () => {
    await write(join(project, 'package.json'), { name: 'x' });
    await write(join(project, '.llmrc'), { port: 9003, backends });
    expect((await load()).port).toBe(9003);
  });

  it('reads a YAML .llmrc', async () => {
    await write(join(project, '.llmrc'), 'port: 9010\nbackends:\n  local: { type: openai, url: "http://x/v1" }\n');
    expect((await load()).port).toBe(9010);
  });

  it('reads .config/llm-proxy.json', async () => {
    await write(join(project, '.config', 'llm-proxy.json'), { port: 9004, backends });
    expect((await load()).port).toBe(9004);
  });

  it('loads llm-proxy.config.ts that imports another .ts file and uses defineConfig', async () => {
    const defineConfigPath = relative(project, join(REPO, 'src', 'config', 'define-config.js'));
    await write(join(project, 'shared', 'ports.ts'), 'export const port: number = 9005;\n');
    await write(
      join(project, 'llm-proxy.config.ts'),
      [
        `import { defineConfig } from '${defineConfigPath.split('\\').join('/')}';`,
        `import { port } from './shared/ports.js';`,
        `export default defineConfig({ port, backends: { local: { type: 'openai', url: 'http://localhost:9000/v1' } } });`,
      ].join('\n'),
    );
    const config = await load();
    expect(config.port).toBe(9005);
    expect(config.filepath).toBe(join(project, 'llm-proxy.config.ts'));
  });

  it('calls a function export with mode and env, awaiting its promise', async () => {
    await write(
      join(project, 'llm-proxy.config.mjs'),
      `export default async ({ mode, env }) => ({
         host: mode === 'development' ? '0.0.0.0' : '127.0.0.1',
         port: Number(env.MY_PORT),
         backends: { local: { type: 'openai', url: 'http://localhost:9000/v1' } },
       });`,
    );
    const config = await load({ env: { NODE_ENV: 'development', MY_PORT: '9006' } });
    expect(config.host).toBe('0.0.0.0');
    expect(config.port).toBe(9006);
  });

  it('does not search above the home directory', async () => {
    await write(join(root, '.llmrc.json'), { port: 9999, backends });
    const config = await load();
    expect(config.port).toBe(8000);
    expect(config.sources).toEqual(['embedded default']);
  });

  it('loads exactly the given configFile, and names it when missing', async () => {
    await write(join(project, '.llmrc.json'), { port: 1, backends });
    const other = await write(join(root, 'elsewhere', 'proxy.json'), { port: 9007, backends });
    expect((await load({ configFile: other })).port).toBe(9007);
    const missing = join(root, 'nope.json');
    const error = await loadError({ configFile: missing });
    expect(error.file).toBe(missing);
    expect(error.message).toContain(missing);
  });
});

// The usual case: the CLI installed globally, a config in a folder with no node_modules.
describe('a script config importing the package by name', () => {
  const probe = globalThis as { llmProxyProbe?: unknown };
  /** 1-based, as editors count: where `needle` starts on line `line` (1-based) of `text`. */
  const columnOf = (text: string, line: number, needle: string) => (text.split('\n')[line - 1] ?? '').indexOf(needle) + 1;
  afterEach(() => {
    delete probe.llmProxyProbe;
  });

  it('gets the running proxy\'s own module, also in the files the config imports', async () => {
    await write(
      join(project, 'backends.ts'),
      [
        `import { defineConfig, type UserConfig } from '@jleechan/llm-proxy-server';`,
        `export const backends: UserConfig['backends'] = defineConfig({ backends: { local: { type: 'openai', url: 'http://localhost:9000/v1' } } }).backends;`,
      ].join('\n'),
    );
    await write(
      join(project, 'llm-proxy.config.ts'),
      [
        `import { defineConfig } from '@jleechan/llm-proxy-server';`,
        `import { backends } from './backends.ts';`,
        `(globalThis as { llmProxyProbe?: unknown }).llmProxyProbe = defineConfig;`,
        `export default defineConfig({ port: 9006, backends });`,
      ].join('\n'),
    );
    const config = await load();
    expect(config.port).toBe(9006);
    expect(config.backends.local).toEqual({ type: 'openai', url: 'http://localhost:9000/v1' });
    expect(probe.llmProxyProbe).toBe(defineConfig);
    expect(warnings).toEqual([]);
  });

  it('resolves the old name `llm-proxy` too, with one deprecation warning', async () => {
    await write(join(project, 'port.ts'), `import { defineConfig } from 'llm-proxy';\nexport const port = defineConfig({ port: 9007 }).port;\n`);
    const file = await write(
      join(project, 'llm-proxy.config.ts'),
      `import { defineConfig } from 'llm-proxy';\nimport { port } from './port.ts';\nexport default defineConfig({ port, backends: ${JSON.stringify(backends)} });\n`,
    );
    const config = await load();
    expect(config.port).toBe(9007);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(file);
    expect(warnings[0]).toContain("imports 'llm-proxy', the package's old name, which is deprecated");
    expect(warnings[0]).toContain("import from '@jleechan/llm-proxy-server' instead");
  });

  it('loads type-only imports of either name without a warning', async () => {
    await write(
      join(project, 'llm-proxy.config.ts'),
      `import type { UserConfig } from 'llm-proxy';\nexport default { port: 9008, backends: ${JSON.stringify(backends)} } satisfies import('@jleechan/llm-proxy-server').UserConfig as UserConfig;\n`,
    );
    expect((await load()).port).toBe(9008);
    expect(warnings).toEqual([]);
  });

  it('names the file, line and column of a syntax error, without quoting the file', async () => {
    const text = `export default {\n  backends: {\n    c: { type: 'cerebras', apiKey: 'csk-leak-me-1234' 'x' },\n  },\n};\n`;
    const file = await write(join(project, 'llm-proxy.config.ts'), text);
    const error = await loadError();
    expect(error.file).toBe(file);
    const column = columnOf(text, 3, "'x'");
    expect(error.message).toBe(`${file}: could not load: syntax error at line 3, column ${column}: Unexpected token, expected ","`);

    const unterminated = `export default {\n  backends: { c: { type: 'cerebras', apiKey: 'csk-leak-me-1234 } },\n};\n`;
    await write(file, unterminated);
    const message = (await loadError()).message;
    expect(message).toContain(`syntax error at line 2, column ${columnOf(unterminated, 2, "'csk")}: Unterminated string constant`);
    expect(message).not.toContain('leak-me');
  });

  it('names the imported file that has the syntax error', async () => {
    const config = await write(join(project, 'llm-proxy.config.ts'), `import { port } from './port.ts';\nexport default { port, backends: ${JSON.stringify(backends)} };\n`);
    const helper = await write(join(project, 'port.ts'), `export const port: = 9009;\n`);
    const error = await loadError();
    expect(error.file).toBe(helper);
    const column = columnOf('export const port: = 9009;', 1, '=');
    expect(error.message).toBe(`${helper}: could not load (imported by ${config}): syntax error at line 1, column ${column}: Unexpected token`);
  });

  it('names the file of an error thrown while the config runs, and does not echo a key written without quotes', async () => {
    const text = `export default {\n  backends: { c: { type: 'cerebras', apiKey: csk_live_leak_me_1234 } },\n};\n`;
    const file = await write(join(project, 'llm-proxy.config.ts'), text);
    const error = await loadError();
    expect(error.file).toBe(file);
    expect(error.message).toBe(`${file}: could not load: ReferenceError: a name that is not defined (a missing import, or a value missing its quotes?)`);
    expect(error.message).not.toContain('leak_me');

    await write(file, `import { port } from './port.ts';\nexport default { port, backends: ${JSON.stringify(backends)} };\n`);
    const helper = await write(join(project, 'port.ts'), 'export const port = defineConfig({ port: 9010 }).port;\n');
    const forgotImport = await loadError();
    expect(forgotImport.file).toBe(helper);
    expect(forgotImport.message).toBe(`${helper}: could not load (imported by ${file}): ReferenceError: defineConfig is not defined`);
  });
});

describe('embedded default and defaults', () => {
  it('runs on the local Ollama when no config exists anywhere', async () => {
    const config = await load();
    expect(config).toEqual({
      backend: 'ollama',
      port: 8000,
      host: '127.0.0.1',
      backends: { ollama: { type: 'ollama', url: 'http://127.0.0.1:11434', model: 'qwen3-coder:30b' } },
      plugins: [],
      server: {
        bodyLimitBytes: 32 * 1024 * 1024,
        pingIntervalMs: 10_000,
        connectTimeoutMs: 10_000,
        firstByteTimeoutMs: 120_000,
        idleTimeoutMs: 300_000,
        shutdownGraceMs: 10_000,
      },
      auth: { keys: [] },
      failover: { mode: 'explicit' },
      logLevel: 'info',
      logFormat: 'auto',
      sources: ['embedded default'],
      backendFiles: { ollama: 'embedded default' },
    });
    expect(config.filepath).toBeUndefined();
  });

  it('picks the only backend, or the first one with a warning', async () => {
    expect((await resolveUserConfig({ backends }, { onWarning: (m) => warnings.push(m) })).backend).toBe('local');
    expect(warnings).toEqual([]);
    const two = { b: { type: 'anthropic' }, a: { type: 'anthropic' } } satisfies UserConfig['backends'];
    expect((await resolveUserConfig({ backends: two }, { onWarning: (m) => warnings.push(m) })).backend).toBe('b');
    expect(warnings.join('\n')).toMatch(/no "backend" is set; using "b"/);
  });

  it('parses server.bodyLimit sizes', async () => {
    const config = await resolveUserConfig({ backends, server: { bodyLimit: '512kb', idleTimeoutMs: 5 } });
    expect(config.server.bodyLimitBytes).toBe(512 * 1024);
    expect(config.server.idleTimeoutMs).toBe(5);
    expect(parseBodyLimit('32mb')).toBe(32 * 1024 * 1024);
    expect(parseBodyLimit('1GB')).toBe(1024 ** 3);
    expect(parseBodyLimit(1000)).toBe(1000);
    expect(parseBodyLimit('lots')).toBeUndefined();
    expect(parseBodyLimit(0)).toBeUndefined();
  });
});

describe('precedence', () => {
  beforeEach(async () => {
    await write(join(home, '.llm-proxy', 'config.json'), {
      backend: 'a',
      port: 1111,
      host: '10.0.0.1',
      logLevel: 'debug',
      backends: {
        a: { type: 'openai', url: 'http://global-a/v1', model: 'global' },
        b: { type: 'openai', url: 'http://global-b/v1' },
      },
      server: { idleTimeoutMs: 1 },
      plugins: [['global-plugin']],
    });
  });

  const pluginResolver: PluginResolver = async (name) => plugin(name);

  it('uses the global file when nothing else is set', async () => {
    const config = await load({ pluginResolver });
    expect(config.plugins.map((p) => p.name)).toEqual(['global-plugin']);
    expect(config.port).toBe(1111);
    expect(config.backend).toBe('a');
    expect(config.sources).toEqual(['global ~/.llm-proxy/config.json']);
    expect(config.filepath).toBeUndefined();
  });

  it('project file > environment > global file; CLI overrides win over all', async () => {
    const file = await write(join(project, '.llmrc.json'), {
      port: 3333,
      backends: { a: { type: 'openai', url: 'http://project-a/v1' } },
      server: { pingIntervalMs: 2 },
      plugins: [],
    });
    const env = { LLM_PROXY_PORT: '2222', LLM_BACKEND: 'b', LLM_PROXY_HOST: '10.0.0.2', LLM_PROXY_API_KEYS: 'k1, k2' };
    const config = await load({ env, pluginResolver });
    expect(config.port).toBe(3333);
    expect(config.backend).toBe('b');
    expect(config.host).toBe('10.0.0.2');
    expect(config.auth.keys).toEqual(['k1', 'k2']);
    expect(config.logLevel).toBe('debug');
    // backends merge by name: the project's `a` replaces the global one whole; `b` stays.
    expect(config.backends).toEqual({
      a: { type: 'openai', url: 'http://project-a/v1' },
      b: { type: 'openai', url: 'http://global-b/v1' },
    });
    expect(config.server.idleTimeoutMs).toBe(1);
    expect(config.server.pingIntervalMs).toBe(2);
    expect(config.plugins).toEqual([]);
    expect(config.sources).toEqual([file, 'environment', 'global ~/.llm-proxy/config.json']);

    const flagged = await load({ env, pluginResolver, overrides: { port: 4444, backend: 'a', host: undefined } });
    expect(flagged.port).toBe(4444);
    expect(flagged.backend).toBe('a');
    expect(flagged.host).toBe('10.0.0.2');
    expect(flagged.sources[0]).toBe('command line');
  });

  it('takes LLM_BACKEND_CONFIG as inline JSON', async () => {
    const inline = JSON.stringify({ backend: 'c', backends: { c: { type: 'anthropic' } }, port: 'auto' });
    const config = await load({ env: { LLM_BACKEND_CONFIG: inline }, pluginResolver });
    expect(config.backend).toBe('c');
    expect(config.port).toBe('auto');
    expect(Object.keys(config.backends).sort()).toEqual(['a', 'b', 'c']);
    expect(config.sources).toEqual(['environment', 'global ~/.llm-proxy/config.json']);
  });

  it('takes LLM_BACKEND_CONFIG as a path, relative to cwd', async () => {
    await write(join(project, 'conf', 'backend.json'), { backend: 'd', backends: { d: { type: 'anthropic' } } });
    const config = await load({ env: { LLM_BACKEND_CONFIG: 'conf/backend.json', LLM_PROXY_PORT: 'auto' }, pluginResolver });
    expect(config.backend).toBe('d');
    expect(config.port).toBe('auto');
    const error = await loadError({ env: { LLM_BACKEND_CONFIG: 'conf/missing.json' } });
    expect(error.field).toBe('LLM_BACKEND_CONFIG');
  });

  it('rejects a bad LLM_PROXY_PORT naming the variable', async () => {
    const error = await loadError({ env: { LLM_PROXY_PORT: 'eighty' } });
    expect(error.field).toBe('LLM_PROXY_PORT');
  });
});

describe('interpolation', () => {
  it('replaces ${VAR} and ${VAR:-default}, and reports missing names', () => {
    const input = { a: '${A}', b: ['x-${B:-dflt}'], c: { d: '${MISSING}', e: 3, f: '$${A}' } };
    const { value, missing } = interpolate(input, { A: 'alpha' });
    expect(value).toEqual({ a: 'alpha', b: ['x-dflt'], c: { d: '', e: 3, f: '${A}' } });
    expect(missing).toEqual(['MISSING']);
    const untouched = { p: plugin('p') };
    expect(interpolate(untouched, {}).value).toBe(untouched);
  });

  it('interpolates config files and warns about unset variables without their values', async () => {
    await write(join(project, '.llmrc.json'), {
      backend: 'cerebras',
      backends: {
        cerebras: { type: 'cerebras', apiKey: '${CEREBRAS_API_KEY}', apiUrl: '${CEREBRAS_URL:-https://api.cerebras.ai/v1}' },
        other: { type: 'openai', url: 'http://x/v1', apiKey: '${OTHER_KEY}' },
      },
    });
    const config = await load({ env: { OTHER_KEY: 'sk-other-value' } });
    expect(config.backends.cerebras).toEqual({ type: 'cerebras', apiKey: '', apiUrl: 'https://api.cerebras.ai/v1' });
    expect(config.backends.other).toMatchObject({ apiKey: 'sk-other-value' });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^CEREBRAS_API_KEY is not set/);
    expect(warnings.join()).not.toContain('sk-other-value');
  });

  it('does not warn about a variable in a backend a higher layer replaced', async () => {
    await write(join(home, '.llm-proxy', 'config.json'), {
      backends: { cerebras: { type: 'cerebras', apiKey: '${CEREBRAS_API_KEY}' } },
    });
    await write(join(project, '.llmrc.json'), { backends: { cerebras: { type: 'cerebras', apiKey: 'literal' } } });
    await load();
    expect(warnings).toEqual([]);
  });
});

describe('legacy shape', () => {
  it('loads unchanged', async () => {
    const legacy = {
      backend: 'cerebras',
      port: 8000,
      backends: {
        cerebras: {
          type: 'cerebras',
          apiKey: '${CEREBRAS_API_KEY}',
          apiUrl: 'https://api.cerebras.ai/v1',
          model: 'qwen-3-coder-480b',
        },
        'vast-ai': { type: 'self-hosted', url: 'http://localhost:8001', format: 'openai' },
      },
      plugins: [['plugin-name', { option: 1 }]],
    };
    await write(join(project, '.llmrc.json'), legacy);
    const calls: unknown[][] = [];
    const pluginResolver: PluginResolver = async (name, options, fromDir) => {
      calls.push([name, options, fromDir]);
      return plugin(name);
    };
    const config = await load({ env: { CEREBRAS_API_KEY: 'csk-test' }, pluginResolver });
    expect(config.backend).toBe('cerebras');
    expect(config.port).toBe(8000);
    expect(config.backends).toEqual({
      cerebras: { ...legacy.backends.cerebras, apiKey: 'csk-test' },
      'vast-ai': legacy.backends['vast-ai'],
    });
    expect(calls).toEqual([['plugin-name', { option: 1 }, project]]);
    expect(config.plugins.map((p) => p.name)).toEqual(['plugin-name']);
    expect(warnings).toEqual([]);
  });

  it('accepts "auto" and a numeric-string port', async () => {
    await write(join(project, '.llmrc.json'), { port: 'auto', backends });
    expect((await load()).port).toBe('auto');
    await write(join(project, '.llmrc.json'), { port: '8000', backends });
    expect((await load()).port).toBe(8000);
  });
});

describe('validation', () => {
  it('names the file and field, and never shows a secret', async () => {
    const file = await write(join(project, '.llmrc.json'), {
      backends: {
        cerebras: { type: 'cerebras', apiKey: 'sk-super-secret-123' },
        'vast-ai': { type: 'self-hosted' },
      },
    });
    // The config layer checks the keys every type has; the provider's schema the rest, at start.
    const error = await startError(await load());
    expect(error.file).toBe(file);
    expect(error.field).toBe('backends.vast-ai.url');
    expect(error.message).toBe(`${file}: backends.vast-ai.url: Required`);
    expect(error.message).not.toContain('sk-super-secret-123');
  });

  it('reports several problems at once', async () => {
    const call = () => validateUserConfig({ port: 70000, logLevel: 'loud', server: { bodyLimit: 'huge' }, backends: { s: { type: 'scripted', maxTokens: 0 } } }, 'x.json');
    expect(call).toThrow(ConfigError);
    const message = (() => {
      try {
        call();
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    expect(message).toMatch(/^x\.json: port: must be a port number/);
    for (const field of ['logLevel', 'server.bodyLimit', 'backends.s.maxTokens']) expect(message).toContain(field);
    const backendError = await startError({ backends: { s: { type: 'scripted', responses: [] } } });
    expect(backendError.message).toBe('inline config: backends.s.responses: must list at least one response');
  });

  it("checks each backend against its provider's schema, and lets types without one through", async () => {
    await expect(startError({ backends: { o: { type: 'openai', url: 'not a url' } } })).resolves.toMatchObject({
      message: expect.stringMatching(/backends\.o\.url: must be an http/),
    });
    await expect(startError({ backends: { o: { type: 'self-hosted', url: 'http://h', format: 'grpc' } } as never })).resolves.toMatchObject({
      field: 'backends.o.format',
    });
    expect(() => validateUserConfig({ backends: { o: { url: 'http://h' } } }, 'f')).toThrow(/backends\.o\.type: Required/);
    expect(() => validateUserConfig({ backends: { o: { type: 'cerebras', maxTokens: -1 } } }, 'f')).toThrow(/maxTokens/);
    const { config } = validateUserConfig({ backends: { r: { type: 'runpod', endpointId: 'abc', model: 'm' } } }, 'f');
    expect(config.backends?.r).toEqual({ type: 'runpod', endpointId: 'abc', model: 'm' });
    const proxy = await createProxy({ backends: { r: { type: 'runpod', endpointId: 'abc', apiKey: 'k', model: 'm' } } }, { logSink: () => undefined });
    expect(proxy.kernel.backends.get('r')?.describe()).toMatchObject({ url: 'https://api.runpod.ai/v2/abc/openai/v1', model: 'm' });
    await proxy.close();
  });

  it('does not leak a secret from a file that is not valid JSON', async () => {
    const file = await write(join(project, '.llmrc.json'), '{ "backends": { "c": { "apiKey": "sk-leak-me" }, } }');
    const error = await loadError();
    expect(error.file).toBe(file);
    expect(error.message).toMatch(/invalid JSON at line 1/);
    expect(error.message).not.toContain('sk-leak-me');
  });

  it('warns about unknown keys instead of failing', async () => {
    await write(join(project, '.llmrc.json'), { backends, colour: 'blue', server: { idleTimeout: 5 } });
    const config = await load();
    expect(config.backend).toBe('local');
    expect(warnings).toEqual([
      expect.stringMatching(/unknown key "server\.idleTimeout" ignored/),
      expect.stringMatching(/unknown key "colour" ignored/),
    ]);
  });

  it('names the active backend field and lists the configured ones', async () => {
    const file = await write(join(project, '.llmrc.json'), {
      backend: 'gpu',
      backends: { cerebras: { type: 'cerebras' }, 'vast-ai': { type: 'self-hosted', url: 'http://localhost:8001' } },
    });
    const error = await loadError();
    expect(error.field).toBe('backend');
    expect(error.file).toBe(file);
    expect(error.message).toContain('unknown backend "gpu"; configured backends: cerebras, vast-ai');
    await rm(file);
    const fromEnv = await loadError({ env: { LLM_BACKEND: 'nope' } });
    expect(fromEnv.message).toContain('configured backends: ollama');
    expect(fromEnv.file).toBe('environment');
  });
});

describe('plugins', () => {
  it('flattens nested arrays and drops falsy entries', async () => {
    const seen: string[] = [];
    const pluginResolver: PluginResolver = async (name, options) => {
      seen.push(`${name}:${JSON.stringify(options)}`);
      return plugin(name);
    };
    const enabled = false as boolean;
    const config = await resolveUserConfig(
      {
        backends,
        plugins: [plugin('a'), [plugin('b'), [null, 'c']], enabled && plugin('x'), undefined, ['d', { n: 1 }], [['e', { n: 2 }], 'f']],
      },
      { pluginResolver },
    );
    expect(config.plugins.map((p) => p.name)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(seen).toEqual(['c:undefined', 'd:{"n":1}', 'e:{"n":2}', 'f:undefined']);
  });

  it('keeps plugin object identity', async () => {
    const p = plugin('same');
    expect((await resolveUserConfig({ backends, plugins: [p] })).plugins[0]).toBe(p);
  });

  it('resolves a plugin module relative to the config file', async () => {
    await write(
      join(project, 'plugins', 'greeter.mjs'),
      `export default (options) => ({ name: 'greeter-' + options.greeting, apply() {} });`,
    );
    await write(join(project, 'plugins', 'named.mjs'), `export const plugin = () => ({ name: 'named', apply() {} });`);
    await write(join(project, '.llmrc.json'), {
      backends,
      plugins: [['./plugins/greeter.mjs', { greeting: 'hi' }], './plugins/named.mjs'],
    });
    await mkdir(join(project, 'sub'));
    const config = await load({ cwd: join(project, 'sub') });
    expect(config.plugins.map((p) => p.name)).toEqual(['greeter-hi', 'named']);
  });

  it('resolves an ESM-only package and a .ts plugin file', async () => {
    const pkg = join(project, 'node_modules', 'esm-only-plugin');
    await write(join(pkg, 'package.json'), { name: 'esm-only-plugin', type: 'module', exports: { '.': { import: './index.js' } } });
    await write(join(pkg, 'index.js'), `export default () => ({ name: 'esm-only', apply() {} });`);
    await write(join(project, 'local.ts'), `export default (o: { n: number }) => ({ name: 'ts-' + o.n, apply(): void {} });`);
    await write(join(project, '.llmrc.json'), { backends, plugins: ['esm-only-plugin', ['./local.ts', { n: 7 }]] });
    expect((await load()).plugins.map((p) => p.name)).toEqual(['esm-only', 'ts-7']);
  });

  it('names plugins[i] and the module when a plugin fails to load', async () => {
    const file = await write(join(project, '.llmrc.json'), { backends, plugins: [false, ['./missing-plugin.mjs', {}]] });
    const error = await loadError();
    expect(error.file).toBe(file);
    expect(error.field).toBe('plugins[1]');
    expect(error.message).toContain('"./missing-plugin.mjs"');

    await write(join(project, 'bad.mjs'), `export default () => ({ nope: true });`);
    await write(join(project, '.llmrc.json'), { backends, plugins: ['./bad.mjs'] });
    expect((await loadError()).message).toMatch(/plugins\[0\]: could not load plugin "\.\/bad\.mjs"/);
  });
});

describe('defineConfig', () => {
  it('is the identity for objects, promises and functions', async () => {
    const object = { port: 1 };
    expect(defineConfig(object)).toBe(object);
    const fn = defineConfig(({ mode }) => ({ host: mode }));
    expect(fn({ mode: 'm', env: {} }).host).toBe('m');
    const asyncFn = defineConfig(async ({ env }) => ({ host: env.H }));
    expect((await asyncFn({ mode: 'm', env: { H: 'h' } })).host).toBe('h');
    const promised: UserConfigExport = defineConfig(Promise.resolve({ port: 2 }));
    expect(await promised).toEqual({ port: 2 });
  });
});
