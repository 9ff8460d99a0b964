// What `llm-proxy start` and `setup` tell a user: problems of backends that are not active are
// one line each at start and are not repeated on every reload; advice is not double-
// parenthesised; the texts name the right ports and say that edits apply live; REDIS_URL alone
// does not turn the Redis tier on, and start says so.

import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ask, run, sandbox, scripted, startProxy, statusJson, waitUntil } from './support/cli.js';
import { readableLog } from './support/readable-log.js';
import { redisPresent, redisRequired, startRedis, type RedisServer } from './support/redis.js';

/** A loopback port that refuses connections (nothing listens there). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Deepest nesting of parentheses in a line: "a (b) (c)" is 1, "a (b (c))" is 2. */
function parenDepth(line: string): number {
  let depth = 0;
  let max = 0;
  for (const char of line) {
    if (char === '(') max = Math.max(max, ++depth);
    else if (char === ')') depth--;
  }
  return max;
}

const linesWith = (text: string, pattern: RegExp) => text.split('\n').filter((line) => pattern.test(line));

describe('llm-proxy start warnings', () => {
  it('give one line per problem of an inactive backend at start, none again on a reload, without double parentheses', async () => {
    const ollamaPort = await closedPort();
    const config = (text: string) => ({
      backend: 'main',
      port: 'auto',
      backends: {
        main: scripted(text),
        cloud: { type: 'cerebras', apiKey: '${LLM_PROXY_TEST_UNSET_KEY}' },
        local: { type: 'ollama', url: `http://127.0.0.1:${ollamaPort}`, model: 'qwen3-coder:30b' },
      },
    });
    const box = sandbox(config('before'));
    const proxy = await startProxy(box);
    const atStart = proxy.stderr();
    expect(linesWith(atStart, /cloud|Cerebras|LLM_PROXY_TEST_UNSET_KEY/), atStart).toHaveLength(1);
    expect(linesWith(atStart, /LLM_PROXY_TEST_UNSET_KEY is not set/)).toHaveLength(1);
    const ollamaLines = linesWith(atStart, /Ollama/);
    expect(ollamaLines, atStart).toHaveLength(1);
    expect(ollamaLines[0]).toContain(`127.0.0.1:${ollamaPort}`);
    expect(ollamaLines[0]).toContain('ollama serve');
    expect(ollamaLines[0]).not.toMatch(/\)\s*\(/);
    expect(parenDepth(ollamaLines[0]!)).toBeLessThanOrEqual(1);

    for (const [i, text] of ['after one edit', 'after two edits'].entries()) {
      writeFileSync(join(box.workspace, '.llmrc.json'), JSON.stringify(config(text)));
      await waitUntil(async () => JSON.parse((await ask(proxy.url)).text).content?.[0]?.text === text, `edit ${i + 1} to apply`);
      await waitUntil(() => proxy.stderr().split('configuration reloaded').length - 1 === i + 1, `reload ${i + 1} to be logged`);
    }
    const afterReloads = proxy.stderr().slice(atStart.length);
    expect(linesWith(afterReloads, /cloud|Cerebras|LLM_PROXY_TEST_UNSET_KEY|Ollama/), afterReloads).toEqual([]);

    // status shows the down backend's reason the same way.
    const status = await run(box, ['status']);
    const [local] = linesWith(status.stdout, /✗ local/);
    expect(local, status.stdout).toContain('ollama serve');
    expect(local).not.toMatch(/\)\s*\(/);
    expect(parenDepth(local!)).toBeLessThanOrEqual(1);
  });

  it('do not tell a user to start Ollama locally for a backend behind an SSH tunnel: the tunnel says what is wrong', async () => {
    const box = sandbox({
      backend: 'main',
      port: 'auto',
      backends: {
        main: scripted('hi'),
        // What `deploy/vastai/tunnel.sh --print-config` writes; this host never resolves.
        gpu: { type: 'vast-ai', format: 'ollama', model: 'qwen3-coder:30b', tunnel: { host: 'ssh5.nosuch.invalid', port: 12345, user: 'root', remotePort: 11434 } },
      },
    });
    const proxy = await startProxy(box);
    await waitUntil(() => readableLog(proxy.stderr()).includes('tunnel for backend "gpu" is down'), 'the tunnel to report itself down');
    const gpuLines = linesWith(readableLog(proxy.stderr()), /gpu/);
    expect(gpuLines.join('\n')).not.toMatch(/ollama serve|Ollama is not reachable/);
    const status = await run(box, ['status']);
    const [gpu] = linesWith(status.stdout, /✗ gpu/);
    expect(gpu, status.stdout).toContain('its SSH tunnel is not up');
    expect(gpu).not.toContain('ollama serve');
  });

  it('say again what a reload newly finds', async () => {
    const box = sandbox({ backend: 'main', port: 'auto', backends: { main: scripted('hi') } });
    const proxy = await startProxy(box);
    writeFileSync(
      join(box.workspace, '.llmrc.json'),
      JSON.stringify({ backend: 'main', port: 'auto', backends: { main: scripted('hi'), cloud: { type: 'cerebras', apiKey: '${LLM_PROXY_TEST_UNSET_KEY}' } } }),
    );
    await waitUntil(() => proxy.stderr().includes('LLM_PROXY_TEST_UNSET_KEY is not set'), 'the new warning');
  });
});

describe('texts', () => {
  it('setup --global names the proxy port and the Ollama URL', async () => {
    const box = sandbox({ backend: 'main', port: 'auto', backends: { main: scripted('hi') } });
    const result = await run(box, ['setup', '--global']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('the proxy listens on port 8000');
    expect(result.stdout).toContain('a local Ollama at http://127.0.0.1:11434');
    expect(result.stdout).not.toContain('Ollama on port 8000');
    // A project's own config does not replace the global file: it is layered over it, and the
    // text says so (it used to say the file applied only where a project had no config).
    expect(result.stdout).not.toContain('without its own config');
    expect(result.stdout).toContain("a project's own config overrides these settings and adds its backends");
    const proxy = await startProxy(box);
    expect(proxy.stdout()).toContain('global ~/.llm-proxy/config.json');
    const { entries } = await statusJson(box);
    expect(entries[0]?.active).toBe('main');
    expect(entries[0]?.backends?.map((b) => b.name).sort()).toEqual(['main', 'ollama']);
  });

  it('the template says that edits apply live, as they do for a .ts config', async () => {
    const box = sandbox();
    expect((await run(box, ['setup'])).code).toBe(0);
    const template = readFileSync(join(box.workspace, 'llm-proxy.config.ts'), 'utf8');
    expect(template).toContain('watches this file and applies each edit as you save it');
    expect(template).not.toContain('take effect on the next');

    const file = join(box.workspace, 'llm-proxy.config.ts');
    const config = (text: string) => `export default { backend: 'main', port: 'auto', backends: { main: { type: 'scripted', responses: [{ text: '${text}' }] } } };\n`;
    writeFileSync(file, config('before'));
    const proxy = await startProxy(box);
    expect(JSON.parse((await ask(proxy.url)).text).content[0].text).toBe('before');
    writeFileSync(file, config('after'));
    await waitUntil(async () => (await ask(proxy.url)).text.includes('"after"'), 'the .ts edit to apply');
  });
});

describe('REDIS_URL', () => {
  it('alone does not turn the Redis tier on, and start says so', async () => {
    const box = sandbox({ port: 'auto', backends: { main: scripted('hi') } });
    box.env.REDIS_URL = 'redis://127.0.0.1:1';
    const proxy = await startProxy(box);
    expect(proxy.stdout()).toContain('REDIS_URL is set, but the Redis tier is off until plugins lists "redis-cache"');
    const health = (await (await fetch(`${proxy.url}/health`)).json()) as { plugins?: Record<string, unknown> };
    expect(Object.keys(health.plugins ?? {})).not.toContain('redis-cache');
  });

  describe.skipIf(!redisPresent && !redisRequired)('with "redis-cache" listed', () => {
    let redis: RedisServer;
    beforeAll(async () => {
      redis = await startRedis();
    });
    afterAll(() => redis.stop());

    it('is the URL it uses', async () => {
      const box = sandbox({ port: 'auto', backends: { main: scripted('hi') }, plugins: ['redis-cache'] });
      box.env.REDIS_URL = redis.url;
      const proxy = await startProxy(box);
      expect(proxy.stdout()).not.toContain('REDIS_URL is set');
      const health = (await (await fetch(`${proxy.url}/health`)).json()) as { plugins: Record<string, { status: string; at?: string }> };
      expect(health.plugins['redis-cache']).toMatchObject({ status: 'ok' });
      expect(JSON.stringify(health.plugins['redis-cache'])).toContain(String(redis.port));
    });
  });
});
