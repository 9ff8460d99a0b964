import { describe, expect, it } from 'vitest';
import { validateBackendOptions, type ServerSettings } from '../../src/plugin.js';
import { ollamaBackendOptions, ollamaBaseUrl, ollamaOptions } from './options.js';
import { thinkValue, toOllamaRequest } from './request.js';
import { sameModel } from './models.js';

describe('toOllamaRequest', () => {
  it('keeps system messages in place, maps sampling options, honours tool_choice none and notes URL images', () => {
    const body = toOllamaRequest(
      {
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        temperature: 0.2,
        top_p: 0.9,
        top_k: 40,
        tools: [{ name: 'Bash', input_schema: { type: 'object' } }],
        tool_choice: { type: 'none' },
        messages: [
          { role: 'user', content: 'first' },
          { role: 'system', content: 'Mid-conversation reminder.' },
          { role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } }] },
        ],
      },
      { model: 'qwen3-coder:30b', numCtx: 8192 },
    );
    expect(body.tools).toBeUndefined();
    expect(body.options).toEqual({ num_ctx: 8192, num_predict: 100, temperature: 0.2, top_p: 0.9, top_k: 40 });
    expect(body.messages.map((m) => m.role)).toEqual(['user', 'system', 'user']);
    expect(body.messages[2]!.content).toContain('https://example.com/cat.png omitted');
  });
});

describe('thinkValue', () => {
  it('prefers the configured value, maps disabled to false, and enables thinking only on thinking models', () => {
    expect(thinkValue('low', { type: 'disabled' }, [])).toBe('low');
    expect(thinkValue(undefined, { type: 'disabled' }, undefined)).toBe(false);
    expect(thinkValue(undefined, { type: 'adaptive' }, ['completion', 'thinking'])).toBe(true);
    expect(thinkValue(undefined, { type: 'enabled', budget_tokens: 1024 }, ['completion', 'tools'])).toBeUndefined();
    expect(thinkValue(undefined, undefined, ['thinking'])).toBeUndefined();
  });
});

describe('backend options', () => {
  const server = { firstByteTimeoutMs: 120_000 } as ServerSettings;
  const warnings: string[] = [];
  /** The entry checked by its schema, as the kernel checks it, then given its defaults. */
  const parseOllamaOptions = (options: Record<string, unknown>, at = server) => {
    const entry = { name: 'local', type: 'ollama', file: 'test.json', options: { type: 'ollama', ...options } };
    return ollamaBackendOptions({ ...entry, options: validateBackendOptions(ollamaOptions, entry, (m) => warnings.push(m)) }, at);
  };

  it('fills the defaults and strips /v1 or /api from the URL', () => {
    expect(parseOllamaOptions({}, server)).toMatchObject({ url: 'http://127.0.0.1:11434', numCtx: 65536, loadTimeoutMs: 300_000 });
    expect(parseOllamaOptions({ firstByteTimeoutMs: 900_000 }, server).loadTimeoutMs).toBe(900_000);
    expect(parseOllamaOptions({ loadTimeoutMs: 60_000 }, server).loadTimeoutMs).toBe(60_000);
    expect(ollamaBaseUrl('http://gpu:11434/v1/')).toBe('http://gpu:11434');
    expect(ollamaBaseUrl('https://proxy.example/ollama/api')).toBe('https://proxy.example/ollama');
  });

  it('accepts Go durations and seconds for keepAlive, and names the field of a bad value', () => {
    expect(parseOllamaOptions({ keepAlive: '1h30m' }, server).keepAlive).toBe('1h30m');
    expect(parseOllamaOptions({ keepAlive: -1 }, server).keepAlive).toBe(-1);
    expect(() => parseOllamaOptions({ keepAlive: '10 minutes' }, server)).toThrow(/backends\.local\.keepAlive/);
    expect(() => parseOllamaOptions({ think: 'max-effort' }, server)).toThrow(/backends\.local\.think/);
    expect(() => parseOllamaOptions({ numCtx: 1.5 }, server)).toThrow(/backends\.local\.numCtx/);
    expect(() => parseOllamaOptions({ url: 'ftp://gpu' })).toThrow(/test\.json: backends\.local\.url: must be an http/);
    expect(parseOllamaOptions({ numCxt: 8192 }).numCtx).toBe(65536);
    expect(warnings).toEqual(['test.json: unknown key "backends.local.numCxt" ignored; did you mean "numCtx"?']);
  });

  it('matches model names the way Ollama does', () => {
    expect(sameModel('llama3.2', 'llama3.2:latest')).toBe(true);
    expect(sameModel('Qwen3-Coder:30B', 'qwen3-coder:30b')).toBe(true);
    expect(sameModel('qwen3-coder', 'qwen3-coder:30b')).toBe(false);
    expect(sameModel('hf.co/org/repo', 'hf.co/org/repo:latest')).toBe(true);
  });
});
