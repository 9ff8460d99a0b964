// Backend entries are checked against the schema their provider registered, once, when the
// backends are built: a typo is warned about (naming the file and `backends.<name>.<key>`) and
// dropped, as a top-level typo is; a bad value stops the start with the file and the field.
// The config layer itself checks only the keys every type accepts.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { validateUserConfig } from '../src/config/schema.js';
import { createProxy, loadConfig, type Plugin, type UserConfig } from '../src/index.js';
import { ScriptedBackend } from '../src/plugins/providers/scripted/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Boots a proxy (no listening); returns what it logged at `warn` and each backend's `describe()`. */
async function boot(config: UserConfig): Promise<{ warnings: string[]; options: Record<string, unknown> }> {
  const lines: string[] = [];
  const options: Record<string, unknown> = {};
  const proxy = await createProxy({ logFormat: 'json', ...config }, { logSink: (line) => lines.push(line) });
  for (const name of proxy.kernel.backends.names()) options[name] = proxy.kernel.backends.get(name)?.describe();
  await proxy.close();
  const warnings = lines.map((line) => JSON.parse(line) as { level: string; msg: string }).filter((l) => l.level === 'warn').map((l) => l.msg);
  return { warnings, options };
}

describe('unknown keys inside a backend', () => {
  it('are warned about at start with the file and backends.<name>.<key>, and dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-proxy-keys-'));
    dirs.push(dir);
    const file = join(dir, '.llmrc.json');
    writeFileSync(
      file,
      JSON.stringify({
        backend: 'gpu',
        backends: {
          local: { type: 'ollama', modle: 'qwen3-coder:30b', numCtx: 32768 },
          gpu: { type: 'openai', url: 'http://127.0.0.1:8001/v1', apiKye: 'k-123456789' },
        },
        plugins: [['ollama', { checkModels: false }]],
      }),
    );
    const loadWarnings: string[] = [];
    const config = await loadConfig({ cwd: dir, home: dir, env: {}, onWarning: (m) => loadWarnings.push(m) });
    // The config layer knows only the common keys: the provider checks the rest.
    expect(loadWarnings).toEqual([]);
    expect(config.backendFiles).toEqual({ local: file, gpu: file });
    const lines: string[] = [];
    const proxy = await createProxy({ ...config, logFormat: 'json' }, { logSink: (line) => lines.push(line) });
    try {
      const warnings = lines.map((line) => JSON.parse(line) as { level: string; msg: string }).filter((l) => l.level === 'warn').map((l) => l.msg);
      expect(warnings).toEqual([
        `${file}: unknown key "backends.local.modle" ignored; did you mean "model"?`,
        `${file}: unknown key "backends.gpu.apiKye" ignored; did you mean "apiKey"?`,
      ]);
      // Dropped: the Ollama backend has no model, the OpenAI one no key.
      expect(proxy.kernel.backends.get('local')?.describe()).toMatchObject({ model: undefined });
      expect(proxy.kernel.backends.get('gpu')?.describe()).toMatchObject({ apiKey: 'not set' });
      // The dropped key's value is a key-like string: it is never quoted.
      expect(lines.join('\n')).not.toContain('k-123456789');
    } finally {
      await proxy.close();
    }
  });

  it('knows every option each first-party type documents, including common ones', async () => {
    const tunnel = { host: 'gpu.example', user: 'root', remotePort: 11434 };
    const backends = {
      a: { type: 'cerebras', apiKey: 'k', apiUrl: 'http://127.0.0.1:1/v1', model: 'm', models: { '*': 'm' }, maxTokens: 10, cache: false },
      b: { type: 'openai', url: 'http://127.0.0.1:1/v1', apiKey: 'k', headers: { 'x-a': '1' }, firstByteTimeoutMs: 5 },
      c: { type: 'anthropic', url: 'http://127.0.0.1:1', apiKey: 'k', headers: {}, cache: { enabled: true, ttlSeconds: 60 }, server: 'vllm', accepts: { contextManagement: true, outputConfig: false, cacheScope: false, deferLoading: false, systemMessages: true, signatures: false, betas: ['context-1m-2025-08-07'] } },
      d: { type: 'self-hosted', url: 'http://127.0.0.1:1', format: 'ollama', numCtx: 8192, keepAlive: '5m', think: false, loadTimeoutMs: 1, embedModel: 'e' },
      e: { type: 'vast-ai', url: 'http://127.0.0.1:1', format: 'openai', apiKey: 'k', headers: {} },
      f: { type: 'runpod', podId: 'abc123', port: 8000, format: 'openai', model: 'm' },
      g: { type: 'runpod', endpointId: 'ep-1', apiKey: 'k' },
      h: { type: 'ollama', url: 'http://127.0.0.1:1', numCtx: 1, keepAlive: -1, think: 'high', loadTimeoutMs: 1, embedModel: 'e', apiKey: 'k', headers: {} },
      i: { type: 'scripted', responses: [{ text: 'hi' }] },
      k: { type: 'vast-ai', url: 'http://127.0.0.1:1', format: 'anthropic', server: 'llama.cpp', accepts: { betas: 'all' } },
      l: { type: 'runpod', podId: 'abc123', format: 'anthropic', server: 'vllm' },
    };
    // With a tunnel (checked by the config; not booted here, as that would open the tunnel).
    const tunneled = { j: { type: 'self-hosted', tunnel, format: 'anthropic', apiKey: 'k', server: 'ollama' } };
    const loaded = validateUserConfig({ backends: { ...backends, ...tunneled } }, 'test.json');
    expect(loaded.warnings).toEqual([]);
    expect(loaded.config.backends).toEqual({ ...backends, ...tunneled });
    const { warnings, options } = await boot({
      backend: 'i',
      backends: backends as UserConfig['backends'],
      plugins: [['ollama', { checkModels: false }], 'cerebras'],
    });
    expect(warnings.filter((w) => w.includes('unknown key'))).toEqual([]);
    expect(Object.keys(options)).toHaveLength(Object.keys(backends).length);
  });

  it('are kept for backend types whose provider registered no schema', async () => {
    const { config, warnings } = validateUserConfig({ backends: { e: { type: 'echo', prefix: '> ', anything: 1 } } }, 'test.json');
    expect(warnings).toEqual([]);
    expect(config.backends?.e).toEqual({ type: 'echo', prefix: '> ', anything: 1 });
    let seen: unknown;
    const bare: Plugin = {
      name: 'bare-provider',
      apply({ providers }) {
        providers.register('bare', (spec) => {
          seen = spec.options;
          return new ScriptedBackend({ ...spec, options: { type: 'scripted', responses: [{ text: 'x' }] } });
        });
      },
    };
    const result = await boot({ backend: 'e', backends: { e: { type: 'bare', prefix: '> ', anything: 1 } as never }, plugins: [bare] });
    expect(result.warnings).toEqual([]);
    expect(seen).toEqual({ type: 'bare', prefix: '> ', anything: 1 });
  });

  it('still fail on an invalid value next to a typo, naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-proxy-keys-'));
    dirs.push(dir);
    const file = join(dir, '.llmrc.json');
    writeFileSync(file, JSON.stringify({ backends: { a: { type: 'openai', url: 'ftp://x', modle: 'm' } } }));
    const config = await loadConfig({ cwd: dir, home: dir, env: {}, onWarning: () => undefined });
    await expect(createProxy(config, { logSink: () => undefined })).rejects.toThrow(
      `${file}: backends.a.url: must be an http:// or https:// URL`,
    );
  });

  it('inside `accepts` are warned about with the key meant; a `server` that is no preset stops the start', async () => {
    const { warnings, options } = await boot({
      backend: 'gpu',
      backends: { gpu: { type: 'anthropic', url: 'http://127.0.0.1:1', server: 'vllm', accepts: { contextManagment: true } } as never },
    });
    expect(warnings).toEqual(['inline config: unknown key "backends.gpu.accepts.contextManagment" ignored; did you mean "contextManagement"?']);
    expect(options.gpu).toMatchObject({ server: 'vllm' });
    await expect(createProxy({ backend: 'gpu', backends: { gpu: { type: 'anthropic', server: 'vlm' } as never }, logLevel: 'silent' })).rejects.toThrow(
      /backends\.gpu\.server: must be one of "anthropic-api", "vllm", "ollama", "llama\.cpp", "litellm", "generic"/,
    );
    await expect(
      createProxy({ backend: 'gpu', backends: { gpu: { type: 'self-hosted', url: 'http://127.0.0.1:1', accepts: { betas: 'some' } } as never }, logLevel: 'silent' }),
    ).rejects.toThrow(/backends\.gpu\.accepts\.betas: must be "all" or a list of beta names/);
  });
});
