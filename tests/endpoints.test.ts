import { afterEach, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream, type Reply } from './support/fake-upstream.js';
import { freePort } from './support/free-port.js';
import { parseSSE, postMessages, startProxy, type TestProxy } from './support/proxy.js';
import { run, sandbox, startProxy as startCliProxy } from './support/cli.js';
import { redisPresent, redisRequired, startRedis } from './support/redis.js';

// Several endpoints behind one backend (issue 9 item 4, story 7: rented GPUs serving one model),
// against real loopback upstreams: balance, session affinity, an endpoint that dies and comes back.

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

const reply = (text: string): Reply => ({ kind: 'openai-stream', chunks: openaiTextChunks(text) });

async function gpus(count: number, answer: (i: number) => Reply = (i) => reply(`gpu ${i}`)): Promise<FakeUpstream[]> {
  const started = await Promise.all(Array.from({ length: count }, () => startFakeUpstream({ format: 'openai' })));
  started.forEach((fake, i) => {
    fake.setFallback(answer(i));
    opened.push(fake);
  });
  return started;
}

async function proxyOver(fakes: FakeUpstream[], extra: Record<string, unknown> = {}): Promise<TestProxy> {
  const px = await startProxy({
    backend: 'gpu',
    backends: { gpu: { type: 'openai', endpoints: fakes.map((fake) => `${fake.url}/v1`), model: 'qwen3-coder:30b', ...extra } },
  });
  opened.push(px);
  return px;
}

let asked = 0;
const ask = (url: string, opts: { session?: string; stream?: boolean } = {}) =>
  postMessages(
    url,
    { model: 'claude-sonnet-4-5', max_tokens: 20, stream: opts.stream ?? false, messages: [{ role: 'user', content: `question ${++asked}` }] },
    opts.session ? { 'x-claude-code-session-id': opts.session } : {},
  );
const chats = (fakes: FakeUpstream[]) => fakes.map((fake) => fake.chatRequests.length);

describe('backends with several endpoints', () => {
  it('spreads requests over the endpoints and says which one served', async () => {
    const fakes = await gpus(3);
    const px = await proxyOver(fakes);
    const served = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const res = await ask(px.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llm-proxy-backend')).toBe('gpu');
      served.add(String(res.headers.get('x-llm-proxy-endpoint')));
    }
    expect(chats(fakes)).toEqual([10, 10, 10]);
    expect([...served].sort()).toEqual(fakes.map((fake) => `${fake.url}/v1`).sort());
  });

  it("keeps a Claude Code session on one endpoint, and spreads the sessions", async () => {
    const fakes = await gpus(3);
    const px = await proxyOver(fakes);
    const bySession = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++) {
      for (let s = 0; s < 12; s++) {
        const session = `5f0c${s}-session`;
        const res = await ask(px.url, { session });
        const endpoints = bySession.get(session) ?? new Set<string>();
        endpoints.add(String(res.headers.get('x-llm-proxy-endpoint')));
        bySession.set(session, endpoints);
      }
    }
    for (const endpoints of bySession.values()) expect(endpoints.size).toBe(1);
    const used = new Set([...bySession.values()].flatMap((endpoints) => [...endpoints]));
    expect(used.size).toBeGreaterThan(1);
  });

  it('a session that keeps one endpoint busy spills over to the others (bounded load)', async () => {
    const slow: Reply = { kind: 'openai-stream', chunks: [{ delayMs: 300 }, ...openaiTextChunks('slow answer')] };
    const fakes = await gpus(3, () => slow);
    const px = await proxyOver(fakes);
    const answers = await Promise.all(Array.from({ length: 9 }, () => ask(px.url, { session: 'one-busy-session', stream: true })));
    for (const res of answers) expect(parseSSE(res.text).at(-1)?.event).toBe('message_stop');
    expect(Math.max(...chats(fakes))).toBeLessThan(9);
  });

  it('an endpoint that dies loses its traffic at once, and gets it back once it answers again', async () => {
    const fakes = await gpus(3);
    const px = await proxyOver(fakes);
    const victim = fakes[1]!;
    const port = Number(new URL(victim.url).port);
    await victim.close();
    for (let i = 0; i < 12; i++) {
      const res = await ask(px.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-llm-proxy-endpoint')).not.toBe(`${victim.url}/v1`);
    }
    const health = (await (await fetch(`${px.url}/health`)).json()) as { backends: { gpu: { status: string; endpoints: Array<{ url: string; status: string }> } } };
    expect(health.backends.gpu.status).toBe('degraded');
    expect(health.backends.gpu.endpoints.map((e) => e.status)).toEqual(['ok', 'down', 'ok']);

    const back = await startFakeUpstream({ format: 'openai', port });
    opened.push(back);
    back.setFallback(reply('back'));
    const deadline = Date.now() + 20_000;
    while (back.chatRequests.length === 0 && Date.now() < deadline) {
      expect((await ask(px.url)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(back.chatRequests.length).toBeGreaterThan(0);
  });

  it('200 concurrent streams over three endpoints, one killed midway: each completes or ends with `event: error`, none hangs', async () => {
    const slow: Reply = {
      kind: 'openai-stream',
      chunks: openaiTextChunks('one two three four five six seven eight').flatMap((chunk) => [chunk, { delayMs: 40 }]),
    };
    const fakes = await gpus(3, () => slow);
    const px = await proxyOver(fakes);
    const victim = fakes[2]!;
    const streams = Array.from({ length: 200 }, (_, i) => ask(px.url, { stream: true, session: `load-${i % 40}` }));
    await victim.waitForRequests(20, { endpoint: 'chat', timeoutMs: 30_000 });
    await victim.close();
    const results = await Promise.all(streams);
    const endings = results.map((res) => (res.status === 200 ? parseSSE(res.text).at(-1)?.event : `http ${res.status}`));
    const completed = endings.filter((e) => e === 'message_stop').length;
    const broken = endings.filter((e) => e === 'error').length;
    expect(completed + broken).toBe(200);
    // The streams the dead endpoint had started break; everything else completes.
    expect(broken).toBeLessThanOrEqual(victim.chatRequests.length);
    expect(completed).toBeGreaterThanOrEqual(200 - victim.chatRequests.length);
    expect(broken).toBeGreaterThan(0);
    // The backend's own circuit stayed closed: the other endpoints serve on.
    expect((await ask(px.url)).status).toBe(200);
  }, 60_000);

  it('`url` and `endpoints` together stop the start, naming the field', async () => {
    await expect(
      startProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', url: 'http://127.0.0.1:9/v1', endpoints: ['http://127.0.0.1:10/v1'] } as never } }),
    ).rejects.toThrow(/backends\.gpu\.url.*give `endpoints` or `url`/);
  });

  it('the same URL twice is an error naming the entry', async () => {
    await expect(
      startProxy({ backend: 'gpu', backends: { gpu: { type: 'openai', endpoints: ['http://127.0.0.1:9/v1', 'http://127.0.0.1:9/v1'] } } }),
    ).rejects.toThrow(/backends\.gpu\.endpoints\[1\].*twice/);
  });

  it('`llm-proxy status` lists each endpoint with its state', async () => {
    const [alive] = await gpus(1);
    const dead = `http://127.0.0.1:${await freePort()}/v1`;
    const box = sandbox({ backend: 'gpu', backends: { gpu: { type: 'openai', model: 'qwen3-coder:30b', endpoints: [`${alive!.url}/v1`, dead] } } });
    await startCliProxy(box);
    const human = await run(box, ['status']);
    expect(human.stdout).toMatch(/! gpu /);
    expect(human.stdout).toContain(`✓ ${alive!.url}/v1  0 in flight`);
    expect(human.stdout).toMatch(new RegExp(`✗ ${dead.replace(/[.]/g, '\\.')}  0 in flight.*connection refused`));
    const json = JSON.parse((await run(box, ['status', '--json'])).stdout) as Array<{ backends: Array<{ name: string; endpoints?: Array<{ url: string; status: string }> }> }>;
    expect(json[0]?.backends.find((b) => b.name === 'gpu')?.endpoints?.map((e) => e.status)).toEqual(['ok', 'down']);
  }, 60_000);

  it.skipIf(!redisPresent && !redisRequired)('an endpoint one proxy took out is out for a second proxy too, through Redis', async () => {
    const redis = await startRedis();
    opened.push({ close: () => redis.stop() });
    const [stuck, good] = await gpus(2);
    stuck!.setFallback({ kind: 'hang' });
    const config = {
      backend: 'gpu',
      backends: { gpu: { type: 'openai' as const, model: 'qwen3-coder:30b', firstByteTimeoutMs: 500, endpoints: [`${stuck!.url}/v1`, `${good!.url}/v1`] } },
      plugins: [['redis-cache', { url: redis.url }], ['backend-health', { syncIntervalMs: 50 }]] as Array<[string, unknown]>,
    };
    const first = await startProxy(config);
    opened.push(first);
    const second = await startProxy(config);
    opened.push(second);
    while (stuck!.chatRequests.length === 0) expect((await ask(first.url)).status).toBe(200);

    type Health = { backends: { gpu: { status: string; endpoints: Array<{ url: string; status: string; detail?: string }> } } };
    const deadline = Date.now() + 10_000;
    let seen: Health['backends']['gpu'] | undefined;
    while (Date.now() < deadline) {
      seen = ((await (await fetch(`${second.url}/health`)).json()) as Health).backends.gpu;
      if (seen.endpoints[0]?.status === 'down') break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    expect(seen?.status).toBe('degraded');
    expect(seen?.endpoints[0]).toMatchObject({ url: `${stuck!.url}/v1`, status: 'down', detail: 'reported down by another proxy' });
    // The second proxy never sent it a request, and does not now.
    const before = stuck!.chatRequests.length;
    expect((await ask(second.url)).headers.get('x-llm-proxy-endpoint')).toBe(`${good!.url}/v1`);
    expect(stuck!.chatRequests.length).toBe(before);
  }, 30_000);

  it('an endpoint a tunnel supplies is named by its tunnel', async () => {
    const [gpu] = await gpus(1);
    const sshPort = await freePort();
    const px = await proxyOver([], {
      endpoints: [`${gpu!.url}/v1`, { tunnel: { host: '127.0.0.1', port: sshPort, user: 'nobody', remotePort: 8000 } }],
    });
    type Health = { backends: { gpu: { endpoints: Array<{ url: string }> } } };
    const health = (await (await fetch(`${px.url}/health`)).json()) as Health;
    expect(health.backends.gpu.endpoints.map((e) => e.url)).toEqual([`${gpu!.url}/v1`, `endpoints[1] (ssh nobody@127.0.0.1:${sshPort})`]);
  });
});
