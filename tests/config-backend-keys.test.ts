// Unknown keys inside a backend: a typo in a first-party backend type is warned about (naming
// the file and `backends.<name>.<key>`) and dropped, as a top-level typo is; a third-party
// type keeps every option for its own provider to validate.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { validateUserConfig } from '../src/config/schema.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('unknown keys inside a backend', () => {
  it('are warned about with the file and backends.<name>.<key>, and dropped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-proxy-keys-'));
    dirs.push(dir);
    const file = join(dir, '.llmrc.json');
    writeFileSync(
      file,
      JSON.stringify({
        backend: 'local',
        backends: {
          local: { type: 'ollama', modle: 'qwen3-coder:30b', numCtx: 32768 },
          gpu: { type: 'openai', url: 'http://127.0.0.1:8001/v1', apiKye: 'k-123456789' },
        },
      }),
    );
    const warnings: string[] = [];
    const config = await loadConfig({ cwd: dir, home: dir, env: {}, onWarning: (m) => warnings.push(m) });
    expect(warnings).toEqual([
      `${file}: unknown key "backends.local.modle" ignored; did you mean "model"?`,
      `${file}: unknown key "backends.gpu.apiKye" ignored; did you mean "apiKey"?`,
    ]);
    expect(config.backends.local).toEqual({ type: 'ollama', numCtx: 32768 });
    expect(config.backends.gpu).toEqual({ type: 'openai', url: 'http://127.0.0.1:8001/v1' });
    // The dropped key's value is a key-like string: it is never quoted.
    expect(warnings.join('\n')).not.toContain('k-123456789');
  });

  it('knows every option each first-party type documents, including common ones', () => {
    const tunnel = { host: 'gpu.example', user: 'root', remotePort: 11434 };
    const backends = {
      a: { type: 'cerebras', apiKey: 'k', apiUrl: 'http://127.0.0.1:1/v1', model: 'm', models: { '*': 'm' }, maxTokens: 10, cache: false },
      b: { type: 'openai', url: 'http://127.0.0.1:1/v1', apiKey: 'k', headers: { 'x-a': '1' }, firstByteTimeoutMs: 5 },
      c: { type: 'anthropic', url: 'http://127.0.0.1:1', apiKey: 'k', headers: {}, cache: { enabled: true, ttlSeconds: 60 } },
      d: { type: 'self-hosted', tunnel, format: 'ollama', numCtx: 8192, keepAlive: '5m', think: false, loadTimeoutMs: 1, embedModel: 'e' },
      e: { type: 'vast-ai', url: 'http://127.0.0.1:1', format: 'openai', apiKey: 'k', headers: {} },
      f: { type: 'runpod', podId: 'abc123', port: 8000, format: 'openai', model: 'm' },
      g: { type: 'runpod', endpointId: 'ep-1', apiKey: 'k' },
      h: { type: 'ollama', url: 'http://127.0.0.1:1', numCtx: 1, keepAlive: -1, think: 'high', loadTimeoutMs: 1, embedModel: 'e', apiKey: 'k', headers: {} },
      i: { type: 'scripted', responses: [{ text: 'hi' }] },
    };
    const { config, warnings } = validateUserConfig({ backends }, 'test.json');
    expect(warnings).toEqual([]);
    expect(config.backends).toEqual(backends);
  });

  it('are kept for backend types from third-party plugins', () => {
    const { config, warnings } = validateUserConfig({ backends: { e: { type: 'echo', prefix: '> ', anything: 1 } } }, 'test.json');
    expect(warnings).toEqual([]);
    expect(config.backends?.e).toEqual({ type: 'echo', prefix: '> ', anything: 1 });
  });

  it('still fail on an invalid value next to a typo', () => {
    expect(() => validateUserConfig({ backends: { a: { type: 'openai', url: 'ftp://x', modle: 'm' } } }, 'test.json')).toThrow(
      /test\.json: backends\.a\.url: must be an http:\/\/ or https:\/\/ URL/,
    );
  });
});
