import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claudeAvailable, runClaude } from './support/claude-cli.js';
import { startFakeOllama, type FakeOllama } from './support/fake-ollama.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { startProxy, type TestProxy } from './support/proxy.js';
import { startCountingRelay, type CountingRelay } from './support/counting-relay.js';
import { freePort } from './support/free-port.js';

interface Shown {
  result: string;
  /** Messages requests that reached the proxy during the run. */
  posts: number;
}

// Claude Code retries 5xx, 429 and 401 answers ten times with backoff (about three minutes) unless
// the answer carries `x-should-retry: false`, which its retry loop reads before the status. These
// runs use the CLI's default retries: a failure retrying cannot fix reaches it in one request.
describe('Claude Code gives up at once when retrying cannot help, and retries what may pass', () => {
  let ollama: FakeOllama;
  let cerebras: FakeUpstream;
  let px: TestProxy;
  // Claude Code talks to the proxy through it; it counts the Messages requests that reached the proxy.
  let relay: CountingRelay;
  beforeAll(async () => {
    expect(claudeAvailable(), 'node_modules/.bin/claude is missing: run npm install').toBe(true);
    ollama = await startFakeOllama();
    cerebras = await startFakeUpstream({ format: 'cerebras' });
    px = await startProxy({
      // The embedded default's shape: one local Ollama, here with nothing listening.
      backend: 'ollama',
      backends: {
        ollama: { type: 'ollama', url: `http://127.0.0.1:${await freePort()}`, model: 'qwen3-coder:30b' },
        missing: { type: 'ollama', url: ollama.url, model: 'llama3.3:70b' },
        cerebras: { type: 'cerebras', apiKey: 'csk-test-0123456789', apiUrl: `${cerebras.url}/v1`, model: 'gpt-oss-120b' },
      },
    });
    relay = await startCountingRelay(px.url);
  });
  afterAll(async () => {
    await relay?.close();
    await px?.close();
    await ollama?.close();
    await cerebras?.close();
  });
  beforeEach(() => {
    relay.reset();
    cerebras.reset();
  });

  const ask = async (opts: { model?: string; env?: Record<string, string>; apiKey?: string; via?: CountingRelay } = {}): Promise<Shown> => {
    const through = opts.via ?? relay;
    const run = await runClaude({
      baseUrl: through.url,
      prompt: 'say hi',
      ...(opts.apiKey ? { apiKey: opts.apiKey } : {}),
      extraArgs: opts.model ? ['--model', opts.model] : [],
      env: opts.env ?? {},
    });
    const json = run.json as { is_error?: boolean; result?: string } | undefined;
    expect(run.timedOut, 'the CLI was still retrying when the test gave up').toBe(false);
    expect(json?.is_error, run.stderr || run.stdout).toBe(true);
    return { result: json?.result ?? '', posts: through.messages };
  };

  it('a local Ollama that is not running: one request, and the message names the URL and `ollama serve`', async () => {
    const shown = await ask();
    expect(shown.result).toContain('connection refused');
    expect(shown.result).toContain('ollama serve');
    expect(shown.posts).toBe(1);
  }, 150_000);

  it('a model that is not pulled: one request, and `ollama pull <model>` is what the user reads', async () => {
    const shown = await ask({ model: 'missing' });
    expect(shown.result).toContain('ollama pull llama3.3:70b');
    expect(shown.posts).toBe(1);
  }, 150_000);

  it('a daily quota exhausted: one request, with the wait and the switch', async () => {
    cerebras.setFallback({ kind: 'error', status: 429, headers: { 'retry-after': '30' }, rateLimit: { remainingRequestsDay: 0, resetRequestsDay: 30_000 } });
    const shown = await ask({ model: 'cerebras' });
    expect(shown.result).toContain('daily quota exhausted');
    // The rate-limit advisor's words, as the user reads them: which limit, when it resets, and that waiting will not help.
    expect(shown.result).toMatch(/cerebras's requests per day \(14400\) is used up; it resets at \S+Z \(in 8 h 20 min\): waiting will not help today/);
    expect(shown.result).toContain('llm-proxy switch');
    expect(shown.posts).toBe(1);
    expect(cerebras.chatRequests).toHaveLength(1);
  }, 150_000);

  it("the backend rejects the proxy's key: one request, naming the variable", async () => {
    cerebras.setFallback({ kind: 'error', status: 401 });
    const shown = await ask({ model: 'cerebras' });
    expect(shown.result).toContain('CEREBRAS_API_KEY');
    expect(shown.posts).toBe(1);
    expect(cerebras.chatRequests).toHaveLength(1);
  }, 150_000);

  it('no route (an unknown backend in `<backend>,<model>`): one request', async () => {
    const shown = await ask({ model: 'nosuch,qwen3' });
    expect(shown.result).toContain('Unknown backend "nosuch"');
    expect(shown.posts).toBe(1);
  }, 150_000);

  it("a wrong client key (the proxy's auth.keys): one request", async () => {
    const guarded = await startProxy({
      backend: 'cerebras',
      backends: { cerebras: { type: 'cerebras', apiKey: 'csk-test-0123456789', apiUrl: `${cerebras.url}/v1` } },
      auth: { keys: ['proxy-client-key-1'] },
    });
    const guardedRelay = await startCountingRelay(guarded.url);
    try {
      const shown = await ask({ via: guardedRelay, apiKey: 'not-the-key' });
      expect(shown.result).toContain('client keys');
      expect(shown.posts).toBe(1);
      expect(cerebras.chatRequests).toHaveLength(0);
    } finally {
      await guardedRelay.close();
      await guarded.close();
    }
  }, 150_000);

  it('a transient upstream 500 is still retried (CLAUDE_CODE_MAX_RETRIES=2: three requests)', async () => {
    cerebras.setFallback({ kind: 'error', status: 500 });
    const shown = await ask({ model: 'cerebras', env: { CLAUDE_CODE_MAX_RETRIES: '2' } });
    expect(shown.result).toContain('retry; if it persists');
    expect(shown.posts).toBe(3);
    expect(cerebras.chatRequests).toHaveLength(3);
  }, 150_000);

  it('a per-minute limit is retried after its retry-after, and then answers', async () => {
    cerebras.enqueue(
      { kind: 'error', status: 429, message: 'Tokens per minute limit exceeded', headers: { 'retry-after': '2' }, rateLimit: { remainingRequestsDay: 500, remainingTokensMinute: 0 } },
      { kind: 'openai-stream', chunks: openaiTextChunks('answered after the limit reset') },
    );
    const run = await runClaude({ baseUrl: relay.url, prompt: 'say hi', extraArgs: ['--model', 'cerebras'], env: { CLAUDE_CODE_MAX_RETRIES: '1' } });
    expect((run.json as { result?: string } | undefined)?.result, run.stderr).toContain('answered after the limit reset');
    expect(relay.messages).toBe(2);
    expect(cerebras.chatRequests).toHaveLength(2);
  }, 150_000);
});
