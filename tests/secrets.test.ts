// Which values count as secrets (config, plugins, environment) and the forms they are masked in.
// The end-to-end behaviour (hostile upstreams, every output) is in secret-scrubbing.test.ts.

import { describe, expect, it } from 'vitest';
import { resolveUserConfig } from '../src/config/load.js';
import { pluginResolver } from '../src/plugins/builtin.js';
import { collectSecrets, environmentSecrets } from '../src/secrets/collect.js';
import { SecretScrubber } from '../src/secrets/scrubber.js';
import { startProxy } from './support/proxy.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('collectSecrets', () => {
  it('finds backend keys, headers, URL credentials, client keys and plugin options; not plain headers', async () => {
    const config = await resolveUserConfig(
      {
        backend: 'a',
        backends: {
          a: { type: 'openai', url: 'http://bob:pa%40ss-word@127.0.0.1:1/v1?api_key=query-secret-1', apiKey: 'sk-backend-key', headers: { 'x-org-token': 'org-token-value', 'content-type': 'application/json' } },
          b: { type: 'anthropic', headers: { authorization: `Basic ${b64('carol:basic-password')}` } },
        },
        auth: { keys: ['client-key-one'] },
        plugins: [['redis-cache', { url: 'redis://:redis-url-password@127.0.0.1:6379', connectTimeoutMs: 10 }]],
      },
      { pluginResolver, env: {}, onWarning: () => undefined },
    );
    const secrets = collectSecrets(config, {});
    for (const expected of ['pa@ss-word', 'bob:pa@ss-word', 'query-secret-1', 'sk-backend-key', 'org-token-value', 'carol:basic-password', 'basic-password', 'client-key-one', 'redis-url-password']) {
      expect(secrets).toContain(expected);
    }
    expect(secrets).not.toContain('application/json');
  });

  it('finds *_API_KEY, *_PASSWORD, *_SECRET, *_TOKEN and URL credentials in the environment, not the llm-proxy placeholder', () => {
    const found = environmentSecrets({
      RUNPOD_API_KEY: 'rp-env-key-123',
      CEREBRAS_API_KEY: 'csk-env-key-456',
      REDIS_PASSWORD: 'redis-env-pw',
      WEBHOOK_SECRET: 'whsec-env-789',
      GITHUB_TOKEN: 'ghp-env-token',
      LLM_PROXY_API_KEYS: 'tenant-a-key, tenant-b-key',
      REDIS_URL: 'redis://default:url-env-pw@cache:6379',
      HOME: '/home/someone',
      EDITOR: 'vim',
    });
    for (const expected of ['rp-env-key-123', 'csk-env-key-456', 'redis-env-pw', 'whsec-env-789', 'ghp-env-token', 'tenant-a-key', 'tenant-b-key', 'url-env-pw', 'default:url-env-pw']) {
      expect(found).toContain(expected);
    }
    expect([...found]).not.toContain('/home/someone');
  });

  // Backend names and model globs are the user's own words: a backend called "badkey" or
  // "turnkey" made its type, URL and model secrets, and "openai", "cerebras" or "ollama" then
  // read "[redacted]" in every error, status line and advice ("llm-proxy switch [redacted]").
  it('does not take a backend named like a secret (or a model glob) for one; its key still is', async () => {
    const config = await resolveUserConfig(
      {
        backend: 'badkey',
        backends: {
          badkey: { type: 'cerebras', apiKey: 'csk-badkey-key-1', apiUrl: 'http://127.0.0.1:1/v1', model: 'gpt-oss-120b' },
          'token-gpu': { type: 'openai', url: 'http://127.0.0.1:2/v1', models: { '*secret*': 'qwen3-coder:30b' } },
        },
      },
      { env: {}, onWarning: () => undefined },
    );
    const secrets = collectSecrets(config, {});
    expect(secrets).toContain('csk-badkey-key-1');
    for (const plain of ['cerebras', 'openai', 'gpt-oss-120b', 'qwen3-coder:30b', 'http://127.0.0.1:1/v1', 'http://127.0.0.1:2/v1']) {
      expect(secrets).not.toContain(plain);
    }
  });

  it("a backend named like a secret keeps its type and model readable in /health", async () => {
    // Nothing listens on port 9: /health reports it down, which is all this needs.
    const px = await startProxy({ backend: 'turnkey', backends: { turnkey: { type: 'openai', url: 'http://127.0.0.1:9/v1', model: 'qwen3-coder:30b' } } });
    try {
      const health = (await (await fetch(`${px.url}/health`)).json()) as { backends: Record<string, { type: string }> };
      expect(health.backends.turnkey?.type).toBe('openai');
      const models = (await (await fetch(`${px.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
      expect(models.data.map((m) => m.id)).toContain('turnkey/qwen3-coder:30b');
    } finally {
      await px.close();
    }
  });

  it('leaves out the ANTHROPIC_AUTH_TOKEN placeholder that `llm-proxy env` sets', async () => {
    const config = await resolveUserConfig({ backend: 'a', backends: { a: { type: 'scripted', responses: [{ text: 'x' }] } } }, { env: {}, onWarning: () => undefined });
    expect(collectSecrets(config, { ANTHROPIC_AUTH_TOKEN: 'llm-proxy', OTHER_TOKEN: 'real-token-value' })).toEqual(['real-token-value']);
  });
});

describe('SecretScrubber', () => {
  const scrubber = new SecretScrubber(['csk-abcdef0123456789', 'user:s3cret"pass', 's3cret"pass', 'tiny']);

  it('masks the raw, URL-encoded, JSON-escaped and base64 forms', () => {
    expect(scrubber.text('key csk-abcdef0123456789 here')).toBe('key [redacted] here');
    expect(scrubber.text(`q=${encodeURIComponent('s3cret"pass')}`)).toBe('q=[redacted]');
    expect(scrubber.text(JSON.stringify({ m: 'pw s3cret"pass' }))).toBe('{"m":"pw [redacted]"}');
    expect(scrubber.text(`Authorization: Basic ${b64('user:s3cret"pass')}`)).toBe('Authorization: Basic [redacted]');
    expect(scrubber.text(`unpadded ${b64('user:s3cret"pass').replace(/=+$/, '')}.`)).toBe('unpadded [redacted].');
  });

  it('leaves short values alone, but masks the start of a secret where a message was cut short', () => {
    expect(scrubber.text('a tiny word')).toBe('a tiny word');
    expect(scrubber.text('Incorrect API key provided: csk-abcdef01…')).toBe('Incorrect API key provided: [redacted]…');
    expect(scrubber.text('body: "event: error csk-abcdef0"')).toBe('body: "event: error [redacted]"');
    expect(scrubber.text('ends with csk-abc')).toBe('ends with csk-abc');
  });

  it('scrubs JSON values (strings and keys) and returns the same object when nothing matched', () => {
    const clean = { status: 'ok', n: 123456 };
    expect(scrubber.value(clean)).toBe(clean);
    expect(scrubber.value({ detail: ['x csk-abcdef0123456789'], ['csk-abcdef0123456789']: 1 })).toEqual({ detail: ['x [redacted]'], '[redacted]': 1 });
  });
});
