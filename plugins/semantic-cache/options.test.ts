import { describe, expect, it } from 'vitest';
import { semanticCache } from './index.js';
import { resolveSemanticSettings } from './options.js';
import { anchorsOf } from './question.js';
import { cachePlugins } from '../../tests/support/cache.js';
import { openaiBackend, startProxy } from '../../tests/support/proxy.js';

describe('semantic-cache anchors', () => {
  const same = (a: string, b: string) => anchorsOf(a) === anchorsOf(b);

  it('are equal for rewordings that keep negation, numbers, code names and script', () => {
    expect(same('Split it into three functions', 'split this into 3 functions please')).toBe(true);
    expect(same('Rename count to total in utils.py', 'In utils.py, rename count to total.')).toBe(true);
    expect(same("Don't add tests", 'Do not write any tests')).toBe(true);
    expect(same('Explain e.g. the router', 'Explain the router')).toBe(true);
  });

  it('differ for negation, another number or name, swapped names, another script', () => {
    expect(same('Add tests', "Don't add tests")).toBe(false);
    expect(same('Use port 8080', 'Use port 8081')).toBe(false);
    expect(same('Test `parseConfig`', 'Test `parseHeaders`')).toBe(false);
    expect(same('Rename getUser', 'Rename fetchUser')).toBe(false);
    expect(same('Move lib/ to src/', 'Move src/ to lib/')).toBe(false);
    expect(same('Explain the error', 'Объясни ошибку')).toBe(false);
  });
});

describe('semantic-cache options', () => {
  const embedder = { type: 'openai' as const, url: 'http://127.0.0.1:9/v1', model: 'm' };

  it('fill in the defaults', () => {
    expect(resolveSemanticSettings({ embedder }, {})).toMatchObject({
      threshold: 0.95,
      embedTimeoutMs: 2000,
      ttlSeconds: 86_400,
      maxEntriesPerScope: 1000,
      syncIntervalMs: 5000,
      vectorSearch: 'auto',
      redis: { url: 'redis://127.0.0.1:6379', mode: 'single', operationTimeoutMs: 150 },
    });
    expect(resolveSemanticSettings({ embedder: { backend: 'local' } }, { REDIS_URL: 'redis://cache:6380' })).toMatchObject({ redis: { url: 'redis://cache:6380' } });
  });

  it('name the field of an invalid option', () => {
    expect(() => resolveSemanticSettings({} as never, {})).toThrow(/plugins\.semantic-cache\.embedder/);
    expect(() => resolveSemanticSettings({ embedder: { type: 'cohere', model: 'x' } } as never, {})).toThrow(/plugins\.semantic-cache\.embedder\.type/);
    expect(() => resolveSemanticSettings({ embedder: { type: 'openai', model: 'x' } } as never, {})).toThrow(/plugins\.semantic-cache\.embedder\.url/);
    expect(() => resolveSemanticSettings({ embedder, threshold: 1.5 }, {})).toThrow(/plugins\.semantic-cache\.threshold/);
    expect(() => resolveSemanticSettings({ embedder, maxEntriesPerScope: 2.5 }, {})).toThrow(/plugins\.semantic-cache\.maxEntriesPerScope/);
    expect(() => resolveSemanticSettings({ embedder, url: 'http://x' }, {})).toThrow(/plugins\.semantic-cache\.url/);
    expect(() => resolveSemanticSettings({ embedder, thresold: 0.9 } as never, {})).toThrow(/plugins\.semantic-cache\.thresold/);
  });

  it('fail start-up when the embedder backend cannot embed', async () => {
    const config = (backend: string) => ({
      backend: 'gpu',
      backends: { gpu: openaiBackend('http://127.0.0.1:9') },
      plugins: cachePlugins([semanticCache({ url: 'redis://127.0.0.1:9', connectTimeoutMs: 100, embedder: { backend } })]),
    });
    await expect(startProxy(config('gpu'))).rejects.toThrow(/plugins\.semantic-cache\.embedder\.backend/);
    await expect(startProxy(config('missing'))).rejects.toThrow(/no backend "missing"/);
  });
});
