// Hostile upstreams that quote the credential they received: what reaches the client (the real
// Anthropic SDK, stream and JSON), the response headers, /health, the admin API, `llm-proxy
// status --json` and the log must carry none of the configured secrets, in any form.

import Anthropic from '@anthropic-ai/sdk';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { redisCache } from '../plugins/redis-cache/index.js';
import { ProxyError } from '../src/errors.js';
import type { BackendCommon } from '@jleechan/llm-proxy-server';
import type { Plugin } from '../src/kernel/types.js';
import { OpenAIBackend } from '../src/plugins/providers/openai/index.js';
import { until } from './support/cache.js';
import { spawnCli, startCli, stopCli } from './support/cli-run.js';
import { startEchoRedis, type EchoRedis } from './support/echo-redis.js';
import { startEchoUpstream, type EchoMode, type EchoUpstream } from './support/echo-upstream.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { postMessages, startProxy, type TestProxy, NO_CIRCUIT } from './support/proxy.js';
import { redisPresent, redisRequired, startRedis, type RedisServer } from './support/redis.js';

// The test's own provider type, declared as a third-party provider declares its type.
declare module '@jleechan/llm-proxy-server' {
  interface BackendTypes {
    relaying: BackendCommon & { type: 'relaying'; apiKey?: string };
  }
  // Its quota plugin's error code, declared as a third-party plugin declares its codes.
  interface PluginErrorCodes {
    over_quota: true;
  }
}

const CONFIG_KEY = 'csk-echo-7f3a9c2e5b1d8f4a6c0e';
const ENV_KEY = 'csk-env-2b8d4f6a1c3e5a7b9d0f';
const REQUEST = { model: 'claude-sonnet-4-5', max_tokens: 20, messages: [{ role: 'user' as const, content: 'hi' }] };

const b64 = (text: string): string => Buffer.from(text).toString('base64');

/** The forms a secret can take in output: as is, URL-encoded, base64 (with and without padding). */
function formsOf(secret: string): string[] {
  return [...new Set([secret, encodeURIComponent(secret), b64(secret), b64(secret).replace(/=+$/, '')])];
}

function expectNoSecret(text: string, ...secrets: string[]): void {
  for (const secret of secrets) for (const form of formsOf(secret)) expect(text, `leaks ${form}`).not.toContain(form);
}

/** Everything the SDK tells its caller about a failure: status, message, body and headers. */
function describeFailure(error: unknown): string {
  if (!(error instanceof Anthropic.APIError)) return String(error);
  const headers = error.headers ? JSON.stringify([...error.headers.entries()]) : '';
  return `${error.status} ${error.message} ${JSON.stringify(error.error)} ${headers}`;
}

async function failure(client: Anthropic, stream: boolean): Promise<string> {
  try {
    if (stream) {
      const events = await client.messages.create({ ...REQUEST, stream: true });
      for await (const _event of events) {
        // drain until the error
      }
    } else {
      await client.messages.create(REQUEST);
    }
  } catch (error) {
    return describeFailure(error);
  }
  throw new Error('expected the request to fail');
}

async function getText(url: string): Promise<string> {
  const res = await fetch(url);
  return `${res.status} ${JSON.stringify([...res.headers.entries()])} ${await res.text()}`;
}

const saved = new Map<string, string | undefined>();
function setEnv(name: string, value: string): void {
  if (!saved.has(name)) saved.set(name, process.env[name]);
  process.env[name] = value;
}
afterEach(() => {
  for (const [name, value] of saved) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  saved.clear();
});

type KeySource = 'config' | 'environment';

interface ProviderCase {
  name: string;
  /** The backend entry; `key` undefined means the provider reads it from `envVar` itself. */
  backend(url: string, key: string | undefined): Record<string, unknown>;
  /** A variable the provider reads on its own (the config names no key at all). */
  envVar?: string;
  /** Speaks Anthropic's /v1/messages, so the upstream can send an SSE `event: error`. */
  anthropicFormat?: boolean;
}

const PROVIDERS: ProviderCase[] = [
  { name: 'openai', backend: (url, key) => ({ type: 'openai', url: `${url}/v1`, apiKey: key, model: 'm' }) },
  { name: 'anthropic', anthropicFormat: true, backend: (url, key) => ({ type: 'anthropic', url, apiKey: key, model: 'm' }) },
  {
    name: 'cerebras',
    envVar: 'CEREBRAS_API_KEY',
    backend: (url, key) => ({ type: 'cerebras', apiUrl: `${url}/v1`, model: 'm', ...(key === undefined ? {} : { apiKey: key }) }),
  },
  { name: 'ollama', backend: (url, key) => ({ type: 'ollama', url, apiKey: key, model: 'm' }) },
  { name: 'self-hosted', anthropicFormat: true, backend: (url, key) => ({ type: 'self-hosted', url, format: 'anthropic', apiKey: key, model: 'm' }) },
  { name: 'vast-ai', backend: (url, key) => ({ type: 'vast-ai', url, apiKey: key, model: 'm' }) },
];

/** What each echo leaves of the upstream's message once the key is masked. */
const USEFUL_REST: Record<EchoMode, RegExp> = {
  json: /Incorrect API key provided: \[redacted\]/,
  text: /the key \[redacted\] is not valid/,
  html: /Rejected credentials: \[redacted\]/,
  sse: /invalid x-api-key: \[redacted\]/,
  'sse-after-start': /invalid x-api-key: \[redacted\]/,
  header: /invalid credentials/,
};

describe('an upstream that echoes the key it received', () => {
  let echo: EchoUpstream;
  beforeAll(async () => {
    echo = await startEchoUpstream();
  });
  afterAll(() => echo.close());

  for (const provider of PROVIDERS) {
    for (const source of ['config', 'environment'] as KeySource[]) {
      it(`${provider.name}, key from the ${source}: masked in stream and JSON errors, split or not, /health, the admin API and the log`, async () => {
        const key = source === 'config' ? CONFIG_KEY : ENV_KEY;
        let configured: string | undefined = key;
        if (source === 'environment') {
          if (provider.envVar) {
            setEnv(provider.envVar, key);
            configured = undefined;
          } else {
            // Not a name the environment scan knows: only the interpolated config says it is a key.
            setEnv('ECHO_GPU_CREDENTIAL', key);
            configured = '${ECHO_GPU_CREDENTIAL}';
          }
        }
        const px = await startProxy({ backend: 'gpu', backends: { gpu: provider.backend(echo.url, configured) } as never, plugins: [NO_CIRCUIT] }, { apiKey: 'client' });
        try {
          const modes: EchoMode[] = ['json', 'text', 'html', 'header', ...(provider.anthropicFormat ? (['sse', 'sse-after-start'] as const) : [])];
          for (const mode of modes) {
            for (const split of [false, true]) {
              echo.mode = mode;
              echo.split = split;
              for (const stream of [true, false]) {
                const received = echo.received.length;
                const shown = await failure(px.client, stream);
                const label = `${mode}${split ? ', split' : ''}, ${stream ? 'stream' : 'JSON'}: ${shown}`;
                // The upstream really saw the key, and quoted it.
                expect(echo.received.slice(received), label).toContain(key);
                expectNoSecret(shown, key);
                // A JSON client asking an SSE-answering upstream sees the non-JSON body quoted, cut at 200 characters.
                if (stream || !mode.startsWith('sse')) expect(shown, label).toMatch(USEFUL_REST[mode]);
              }
            }
          }
          echo.mode = 'json';
          echo.split = true;
          for (const path of ['/health', '/_llm-proxy/status']) {
            const body = await getText(`${px.url}${path}`);
            expectNoSecret(body, key);
            expect(body, path).toContain('Incorrect API key provided: [redacted]');
          }
          expectNoSecret(px.logs.join('\n'), key);
          expect(px.logs.join('\n')).toContain('[redacted]');
        } finally {
          await px.close();
        }
      });
    }
  }

  it('a URL credential (http://user:pass@host) is masked as the password and as the Basic header the upstream echoes', async () => {
    const url = echo.url.replace('http://', 'http://user:s3cretpass@');
    const px = await startProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: `${url}/v1`, model: 'm' } }, plugins: [NO_CIRCUIT] }, { apiKey: 'client' });
    try {
      echo.mode = 'json';
      echo.split = true;
      const outputs: string[] = [];
      for (const stream of [true, false]) outputs.push(await failure(px.client, stream));
      outputs.push(await getText(`${px.url}/health`), await getText(`${px.url}/_llm-proxy/status`));
      expect(echo.received).toContain(`Basic ${b64('user:s3cretpass')}`);
      for (const output of [...outputs, px.logs.join('\n')]) {
        expectNoSecret(output, 's3cretpass', 'user:s3cretpass');
        expect(output).not.toContain('dXNlcjpz');
      }
      for (const output of outputs) expect(output).toContain('Incorrect API key provided: Basic [redacted]');
    } finally {
      await px.close();
    }
  });
});

describe('response headers set from upstream data', () => {
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
    // A provider that passes the upstream's request id on to the client.
    const relaying: Plugin = {
      name: 'relaying-provider',
      apply({ providers }) {
        providers.register('relaying', (spec, env) =>
          new OpenAIBackend(
            {
              name: spec.name,
              type: spec.type,
              baseUrl: `${upstream.url}/v1`,
              apiKey: CONFIG_KEY,
              onResponse: (response, context) => {
                const id = response.headers['x-request-id'];
                if (id) context.responseHeaders['x-upstream-request-id'] = id;
              },
            },
            env,
          ),
        );
      },
    };
    px = await startProxy({ backend: 'gpu', backends: { gpu: { type: 'relaying', apiKey: CONFIG_KEY } }, plugins: [relaying, NO_CIRCUIT] });
  });
  afterAll(async () => {
    await px.close();
    await upstream.close();
  });

  it('are masked, stream and JSON', async () => {
    for (const stream of [true, false]) {
      // The upstream builds its request id from the key it was sent.
      upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('hello'), headers: { 'x-request-id': `req_${CONFIG_KEY}` } });
      const res = await postMessages(px.url, { ...REQUEST, stream }, { 'x-llm-proxy-cache': 'no-cache' });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-upstream-request-id'), `stream ${stream}: ${JSON.stringify([...res.headers])}`).toBe('req_[redacted]');
      expect(res.text).toContain(stream ? 'event: message_stop' : '"text":"hello"');
    }
  });
});

describe('client keys', () => {
  const CLIENT_KEY = 'sk-client-tenant-9d8c7b6a5f4e';
  let px: TestProxy;
  beforeAll(async () => {
    // A quota plugin whose rejection quotes the key it was presented.
    const quota: Plugin = {
      name: 'tenant-quota',
      apply({ hooks }) {
        hooks.request.tap('tenant-quota', (ctx) => {
          const presented = String(ctx.headers['x-api-key'] ?? ctx.headers.authorization).replace(/^Bearer /, '');
          throw new ProxyError(`tenant key ${presented} is over its daily quota`, { code: 'over_quota', type: 'rate_limit_error' });
        });
      },
    };
    px = await startProxy(
      { backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: 'hi' }] } }, auth: { keys: [CLIENT_KEY] }, plugins: [quota] },
      { apiKey: CLIENT_KEY },
    );
  });
  afterAll(() => px.close());

  it('are masked in errors, stream and JSON, and in the log', async () => {
    for (const stream of [true, false]) {
      const shown = await failure(px.client, stream);
      expectNoSecret(shown, CLIENT_KEY);
      expect(shown).toContain('tenant key [redacted] is over its daily quota');
    }
    expectNoSecret(px.logs.join('\n'), CLIENT_KEY);
  });
});

describe('a Redis password (redis-cache)', () => {
  const PASSWORD = 'hunter2-redis-pw-31337';
  let redis: EchoRedis;
  beforeAll(async () => {
    redis = await startEchoRedis();
  });
  afterAll(() => redis.close());

  const cases: Array<[string, () => Promise<TestProxy>]> = [
    ['in the URL of a ["redis-cache", options] entry', () => proxyWith({ plugins: [['redis-cache', { url: `redis://:${PASSWORD}@127.0.0.1:${redis.port}` }]] })],
    ['as the password of a redisCache() plugin object', () => proxyWith({ plugins: [redisCache({ url: `redis://127.0.0.1:${redis.port}`, password: PASSWORD })] })],
    [
      'in REDIS_URL',
      () => {
        setEnv('REDIS_URL', `redis://default:${PASSWORD}@127.0.0.1:${redis.port}`);
        return proxyWith({ plugins: [['redis-cache', {}]] });
      },
    ],
  ];

  function proxyWith(extra: Record<string, unknown>): Promise<TestProxy> {
    return startProxy({ backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: 'hi' }] } }, ...extra });
  }

  for (const [name, start] of cases) {
    it(`${name}: masked in /health, the admin API and the log when Redis quotes it`, async () => {
      const before = redis.passwords.length;
      const px = await start();
      try {
        // Redis refuses the password and says which one: wait until the log has the outage.
        await until(async () => px.logs.some((line) => line.includes('Redis at')), 'the Redis outage in the log', 15_000);
        expect(redis.passwords.slice(before)).toContain(PASSWORD);
        const log = px.logs.join('\n');
        expect(log).toMatch(/WRONGPASS invalid username-password pair: '\[redacted\]'/);
        expectNoSecret(log, PASSWORD);
        for (const path of ['/health', '/_llm-proxy/status']) expectNoSecret(await getText(`${px.url}${path}`), PASSWORD);
      } finally {
        await px.close();
      }
    });
  }
});

describe.skipIf(!redisPresent && !redisRequired)('an embedder key (semantic-cache)', () => {
  let redis: RedisServer;
  let echo: EchoUpstream;
  beforeAll(async () => {
    [redis, echo] = await Promise.all([startRedis(), startEchoUpstream()]);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), echo?.close()]);
  });

  it('is masked in the log, /health and the admin API when the embedder quotes it', async () => {
    const EMBED_KEY = 'sk-embed-4c5d6e7f8a9b0c1d';
    const px = await startProxy({
      backend: 'canned',
      // Cached explicitly: scripted backends are not cached by default, and only a cache lookup embeds.
      backends: { canned: { type: 'scripted', responses: [{ text: 'hi' }], cache: true } },
      plugins: [['semantic-cache', { url: redis.url, embedder: { type: 'openai', url: `${echo.url}/v1`, model: 'e', apiKey: EMBED_KEY } }]],
    });
    try {
      echo.mode = 'json';
      await px.client.messages.create({ ...REQUEST, messages: [{ role: 'user', content: 'what does this repository do?' }] });
      await until(async () => px.logs.some((line) => line.includes('embedder')), 'the embedder outage in the log', 15_000);
      expect(echo.received).toContain(EMBED_KEY);
      const log = px.logs.join('\n');
      expect(log).toContain('Incorrect API key provided: [redacted]');
      expectNoSecret(log, EMBED_KEY);
      for (const path of ['/health', '/_llm-proxy/status']) {
        const body = await getText(`${px.url}${path}`);
        expectNoSecret(body, EMBED_KEY);
        expect(body).toContain('[redacted]');
      }
    } finally {
      await px.close();
    }
  });
});

describe('llm-proxy status --json', () => {
  const dirs: string[] = [];
  let echo: EchoUpstream;
  beforeAll(async () => {
    echo = await startEchoUpstream();
  });
  afterAll(async () => {
    await echo.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('shows a failing model probe without the key or the URL credential it echoed, and so does the log', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llm-proxy-home-'));
    const workspace = mkdtempSync(join(tmpdir(), 'llm-proxy-ws-'));
    dirs.push(home, workspace);
    const gpuUrl = echo.url.replace('http://', 'http://user:s3cretpass@');
    writeFileSync(
      join(workspace, '.llmrc.json'),
      JSON.stringify({
        backend: 'gpu',
        port: 'auto',
        backends: { gpu: { type: 'openai', url: `${gpuUrl}/v1`, model: 'm' }, cloud: { type: 'openai', url: `${echo.url}/v1`, apiKey: CONFIG_KEY, model: 'm' } },
      }),
    );
    const env: NodeJS.ProcessEnv = { ...process.env, LLM_PROXY_HOME: home, NO_COLOR: '1' };
    for (const name of Object.keys(env)) if (/^(LLM_PROXY_(?!HOME)|LLM_BACKEND|ANTHROPIC_|CEREBRAS_API_KEY)/.test(name)) delete env[name];
    echo.mode = 'json';
    echo.split = false;
    const proxy = await startCli([], { cwd: workspace, env });
    try {
      const client = new Anthropic({ baseURL: proxy.url, apiKey: 'client', maxRetries: 0 });
      expectNoSecret(await failure(client, true), 's3cretpass', 'user:s3cretpass');
      const status = await spawnCli(['status', '--json'], { cwd: workspace, env }).result;
      // Exit 4: the active backend is down (every probe here fails on purpose).
      expect(status.code, status.stderr).toBe(4);
      const [entry] = JSON.parse(status.stdout) as Array<{ backends: Array<{ name: string; health: string; detail?: string }> }>;
      for (const name of ['gpu', 'cloud']) {
        expect(entry?.backends.find((b) => b.name === name)).toMatchObject({ health: 'down', detail: expect.stringContaining('Incorrect API key provided: ') });
      }
      expect(status.stdout).toContain('Basic [redacted]');
      expectNoSecret(status.stdout, 's3cretpass', 'user:s3cretpass', CONFIG_KEY);
      expect(status.stdout).not.toContain('dXNlcjpz');
    } finally {
      const exited = await stopCli(proxy);
      const log = exited.stdout + exited.stderr;
      expect(log).toContain('[redacted]');
      expectNoSecret(log, 's3cretpass', 'user:s3cretpass', CONFIG_KEY);
    }
  });
});
