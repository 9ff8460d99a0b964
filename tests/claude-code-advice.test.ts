import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claudeAvailable, runClaude } from './support/claude-cli.js';
import { ollamaTextLines, startFakeOllama, type FakeOllama } from './support/fake-ollama.js';
import { startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { startProxy, type TestProxy } from './support/proxy.js';
import { freePort } from './support/free-port.js';

// Claude Code replaces the message of a 404 ("There's an issue with the selected model"), a
// 401/403 ("Failed to authenticate" / "Please run /login"), a 413 ("Request too large") and any
// message naming x-api-key with its own text. Every advice the proxy gives must survive that:
// these runs check what the real CLI prints as the run's result.
describe("the proxy's advice is what Claude Code shows", () => {
  let ollama: FakeOllama;
  let cerebras: FakeUpstream;
  let gpu: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    expect(claudeAvailable(), 'node_modules/.bin/claude is missing: run npm install').toBe(true);
    ollama = await startFakeOllama();
    cerebras = await startFakeUpstream({ format: 'cerebras' });
    gpu = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({
      backend: 'ollama',
      backends: {
        ollama: { type: 'ollama', url: ollama.url, model: 'qwen3-coder:30b', models: { '*haiku*': 'qwen3:8b' } },
        missing: { type: 'ollama', url: ollama.url, model: 'llama3.3:70b' },
        small: { type: 'ollama', url: ollama.url, model: 'gemma3:4b' },
        wrongpath: { type: 'ollama', url: `${ollama.url}/proxy`, model: 'qwen3-coder:30b' },
        dead: { type: 'ollama', url: `http://127.0.0.1:${await freePort()}`, model: 'qwen3-coder:30b' },
        cerebras: { type: 'cerebras', apiKey: 'csk-test-0123456789', apiUrl: `${cerebras.url}/v1`, model: 'gpt-oss-120b' },
        gpu: { type: 'openai', url: `${gpu.url}/v1`, model: 'qwen3-coder:30b' },
      },
      // Pings later than the first-byte timeout, so a timeout is an HTTP error, not event: error.
      server: { firstByteTimeoutMs: 1_000, pingIntervalMs: 10_000 },
    });
  });
  afterAll(async () => {
    await px?.close();
    await ollama?.close();
    await cerebras?.close();
    await gpu?.close();
  });
  beforeEach(() => {
    ollama.reset();
    cerebras.reset();
    gpu.reset();
  });

  /** The run's result text; transient failures are asked without retries, the others with the defaults. */
  const shown = async (model: string | undefined, retries?: number): Promise<string> => {
    const run = await runClaude({
      baseUrl: px.url,
      prompt: 'say hi',
      extraArgs: model ? ['--model', model] : [],
      env: retries === undefined ? {} : { CLAUDE_CODE_MAX_RETRIES: String(retries) },
    });
    const json = run.json as { is_error?: boolean; result?: string } | undefined;
    expect(json?.is_error, run.stderr || run.stdout).toBe(true);
    const result = json?.result ?? '';
    expect(result).not.toContain("There's an issue with the selected model");
    expect(result).not.toMatch(/Please run \/login|Failed to authenticate|Invalid API key|Request too large \(max/);
    return result;
  };

  it('a model that is not pulled: `ollama pull <model>`', async () => {
    const result = await shown('missing');
    expect(result).toContain('model "llama3.3:70b" is not pulled');
    expect(result).toContain('`ollama pull llama3.3:70b`');
  }, 150_000);

  it('a model Cerebras does not offer: the models it offers and the setting to change', async () => {
    cerebras.setModels(['gpt-oss-120b', 'llama-3.3-70b']);
    cerebras.enqueue({ kind: 'error', status: 404, type: 'not_found_error', code: 'model_not_found', message: 'Model qwen-3-coder-480b does not exist or you do not have access to it.' });
    const result = await shown('cerebras/qwen-3-coder-480b');
    expect(result).toContain('Cerebras offers: gpt-oss-120b, llama-3.3-70b');
    expect(result).toContain('set backends.cerebras.model');
  }, 150_000);

  it('a model without tools: a model that has them', async () => {
    const result = await shown('small');
    expect(result).toContain('cannot call tools');
    expect(result).toContain('set backends.small.model to a model with tool support');
  }, 150_000);

  it('a URL that is not Ollama: how to check it', async () => {
    const result = await shown('wrongpath');
    expect(result).toContain("serves Ollama's native API");
  }, 150_000);

  it('Ollama not running: `ollama serve`, and the configured backends that answer now', async () => {
    const result = await shown('dead');
    expect(result).toContain('start Ollama (`ollama serve`)');
    expect(result).toContain('`llm-proxy switch ollama`');
    expect(result).toContain('`llm-proxy switch cerebras`');
    expect(result).toContain('`llm-proxy switch gpu`');
    // Down, or up without a usable model: not offered as a way out.
    for (const name of ['missing', 'small', 'wrongpath']) expect(result).not.toContain(`llm-proxy switch ${name}\``);
  }, 150_000);

  it("the backend rejects the proxy's key (a 401 upstream): the key to check, not /login", async () => {
    cerebras.setFallback({ kind: 'error', status: 401 });
    const result = await shown('cerebras');
    expect(result).toContain('Cerebras rejected the API key');
    expect(result).toContain('CEREBRAS_API_KEY');
  }, 150_000);

  it('an Anthropic-style "invalid x-api-key" from the backend is still the proxy\'s message', async () => {
    gpu.enqueue({ kind: 'error', status: 401, message: 'invalid x-api-key' });
    const result = await shown('gpu');
    expect(result).toContain('invalid API key');
    expect(result).toContain('check the API key configured for this backend');
  }, 150_000);

  it('a body the backend finds too large (413): shorten the conversation', async () => {
    gpu.enqueue({ kind: 'error', status: 413, message: 'Request Entity Too Large' });
    const result = await shown('gpu');
    expect(result).toContain('shorten the conversation (e.g. /compact in Claude Code)');
  }, 150_000);

  it('an overloaded backend (529): retry later', async () => {
    gpu.enqueue({ kind: 'error', status: 529, message: 'Overloaded' });
    const result = await shown('gpu', 0);
    expect(result).toContain('the backend is overloaded; retry later');
  }, 150_000);

  it('no first byte in time: the setting to raise', async () => {
    gpu.enqueue({ kind: 'hang' });
    const result = await shown('gpu', 0);
    expect(result).toContain('raise server.firstByteTimeoutMs');
  }, 150_000);

  it('--model nosuch: the backends and their models, not the default model in disguise', async () => {
    const result = await shown('nosuch');
    expect(result).toContain('Unknown model "nosuch"');
    expect(result).toContain('ollama (active): qwen3-coder:30b, qwen3:8b');
    expect(result).toMatch(/cerebras: [^;]*gpt-oss-120b/);
    expect(result).toContain('dead: its model list is unavailable');
    expect(result).toContain('--model ollama/qwen3-coder:30b');
    expect(ollama.chatRequests).toHaveLength(0);
  }, 150_000);

  it('--model <a model another backend serves>: which backend serves it', async () => {
    const result = await shown('gpt-oss-120b');
    expect(result).toContain('backend "cerebras" serves it: use --model cerebras/gpt-oss-120b');
    expect(cerebras.chatRequests).toHaveLength(0);
  }, 150_000);

  it("Claude's own names keep mapping: --model haiku goes to the `*haiku*` model, the default to `model`", async () => {
    ollama.enqueue({ kind: 'stream', lines: ollamaTextLines('haiku answer') }, { kind: 'stream', lines: ollamaTextLines('default answer') });
    const haiku = await runClaude({ baseUrl: px.url, prompt: 'say hi', extraArgs: ['--model', 'haiku'] });
    expect((haiku.json as { result?: string } | undefined)?.result, haiku.stderr).toBe('haiku answer');
    const plain = await runClaude({ baseUrl: px.url, prompt: 'say hi' });
    expect((plain.json as { result?: string } | undefined)?.result, plain.stderr).toBe('default answer');
    expect(ollama.chatRequests.map((r) => (r.body as { model: string }).model)).toEqual(['qwen3:8b', 'qwen3-coder:30b']);
  }, 150_000);
});
