import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorType } from '../src/anthropic/types.js';
import type { ProxyError } from '../src/errors.js';
import { UpstreamClient } from '../src/upstream/http-client.js';
import { errorFromUpstream, parseDuration, parseRetryAfter } from '../src/upstream/upstream-error.js';

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

// The test posts the reply it wants; the server sends it back as the upstream answer.
let server: http.Server;
let client: UpstreamClient;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const reply = JSON.parse(raw) as Reply;
      res.writeHead(reply.status, reply.headers ?? {});
      if (req.url === '/huge') {
        // Far more than the 64 KB we read; the reader must not wait for all of it.
        for (let i = 0; i < 64; i++) res.write('y'.repeat(64 * 1024));
      }
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  client = new UpstreamClient({
    backend: 'cerebras',
    baseUrl: `http://127.0.0.1:${port}`,
    connectTimeoutMs: 1000,
    firstByteTimeoutMs: 1000,
    idleTimeoutMs: 1000,
    headers: { authorization: 'Bearer sk-SECRET-KEY' },
  });
});

afterAll(async () => {
  await client.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function upstreamError(
  reply: Reply,
  format: 'openai' | 'anthropic' = 'openai',
  path = '/',
): Promise<ProxyError> {
  const res = await client.request({ method: 'POST', path, body: JSON.stringify(reply) });
  expect(res.status).toBe(reply.status);
  const error = await errorFromUpstream(res, { backend: 'cerebras', format });
  expect(error.clientMessage()).not.toContain('sk-SECRET-KEY');
  return error;
}

describe('errorFromUpstream body shapes', () => {
  it('reads the OpenAI shape', async () => {
    const error = await upstreamError({
      status: 400,
      body: JSON.stringify({ error: { message: 'max_tokens is too large', type: 'invalid_request_error', code: 'bad_max', param: 'max_tokens' } }),
    });
    expect(error.type).toBe('invalid_request_error');
    expect(error.status).toBe(400);
    expect(error.code).toBe('upstream_400');
    expect(error.backend).toBe('cerebras');
    expect(error.message).toContain('max_tokens is too large');
    expect(error.message).toContain('HTTP 400');
  });

  it('reads the Anthropic shape: its type where the status passes through, overloaded always', async () => {
    const invalid = JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'messages: roles must alternate' } });
    const e400 = await upstreamError({ status: 400, body: invalid }, 'anthropic');
    expect(e400.type).toBe('invalid_request_error');
    expect(e400.status).toBe(400);
    // The proxy's key for that backend, not the client's: a 502 (Claude Code would say "run /login").
    const body = JSON.stringify({ type: 'error', error: { type: 'permission_error', message: 'no access to model' } });
    const error = await upstreamError({ status: 403, body }, 'anthropic');
    expect(error.type).toBe('api_error');
    expect(error.status).toBe(502);
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('permission_error');
    expect(error.message).toContain('no access to model');
    const overloaded = JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    const e529 = await upstreamError({ status: 529, body: overloaded }, 'anthropic');
    expect(e529.type).toBe('overloaded_error');
    expect(e529.status).toBe(529);
  });

  it("reads Cerebras' flat shape", async () => {
    const body = JSON.stringify({ message: 'Tokens per minute limit exceeded', type: 'too_many_tokens_error', param: 'quota', code: 'token_quota_exceeded' });
    const error = await upstreamError({ status: 429, body, headers: { 'retry-after': '7' } }, 'openai');
    expect(error.type).toBe('rate_limit_error');
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBe(7);
    expect(error.message).toContain('Tokens per minute limit exceeded');
    expect(error.message).toContain('token_quota_exceeded');
  });

  it("reads Ollama's string error", async () => {
    const error = await upstreamError({ status: 404, body: JSON.stringify({ error: "model 'llama9' not found" }) });
    expect(error.type).toBe('invalid_request_error');
    expect(error.status).toBe(400);
    expect(error.message).toContain("model 'llama9' not found");
  });

  it('reduces HTML to its text, trimmed to 500 characters', async () => {
    const html = `<!DOCTYPE html><html><head><style>body{color:red}</style><title>502 Bad Gateway</title></head><body><h1>Bad   Gateway</h1><p>${'z'.repeat(2000)}</p></body></html>`;
    const error = await upstreamError({ status: 502, body: html });
    expect(error.type).toBe('api_error');
    expect(error.status).toBe(502);
    expect(error.message).toContain('502 Bad Gateway Bad Gateway');
    expect(error.message).not.toContain('<');
    expect(error.message).not.toContain('color:red');
    expect(error.message.length).toBeLessThan(600);
  });

  it('trims plain text to 500 characters', async () => {
    const error = await upstreamError({ status: 500, body: `boom ${'q'.repeat(5000)}` });
    expect(error.message).toContain('boom');
    expect(error.message).not.toContain('q'.repeat(500));
    expect(error.message).toContain('q'.repeat(400));
  });

  it('reads at most 64 KB of a huge body', async () => {
    const error = await upstreamError({ status: 500, body: 'tail' }, 'openai', '/huge');
    expect(error.message).toContain('y'.repeat(100));
    expect(error.message).not.toContain('tail');
  });

  it('copes with an empty body', async () => {
    const error = await upstreamError({ status: 500, body: '' });
    expect(error.message).toContain('empty body');
  });
});

describe('errorFromUpstream status mapping', () => {
  // Status, type and x-should-retry as Claude Code shows them: no 401/403/404/413 (it replaces
  // their messages), and `retryable: false` where waiting cannot help.
  const cases: Array<[number, ErrorType, number, boolean | undefined]> = [
    [400, 'invalid_request_error', 400, undefined],
    [422, 'invalid_request_error', 400, undefined],
    [401, 'api_error', 502, false],
    [403, 'api_error', 502, false],
    [404, 'api_error', 502, false],
    [408, 'timeout_error', 504, true],
    [413, 'invalid_request_error', 400, false],
    [429, 'rate_limit_error', 429, true],
    [500, 'api_error', 502, true],
    [502, 'api_error', 502, true],
    [503, 'api_error', 502, true],
    [504, 'timeout_error', 504, true],
    [529, 'overloaded_error', 529, true],
  ];
  it.each(cases)('HTTP %i -> %s (%i), retryable %s', async (status, type, proxyStatus, retryable) => {
    const error = await upstreamError({ status, body: JSON.stringify({ error: { message: `failure ${status}` } }) });
    expect(error.type).toBe(type);
    expect(error.status).toBe(proxyStatus);
    expect(error.retryable).toBe(retryable);
    expect(error.code).toBe(`upstream_${status}`);
    expect(error.message).toContain(`failure ${status}`);
  });

  it('a 404 about the model is a 400 about the model', async () => {
    const error = await upstreamError({ status: 404, body: JSON.stringify({ error: { message: 'The model `nosuch` does not exist.', code: 'model_not_found' } }) });
    expect(error.type).toBe('invalid_request_error');
    expect(error.status).toBe(400);
    expect(error.retryable).toBe(false);
  });

  it('a daily or paid quota is not worth retrying; a per-minute limit is', async () => {
    const daily = await upstreamError({ status: 429, body: JSON.stringify({ message: 'Requests per day limit exceeded' }) }, 'openai');
    expect([daily.status, daily.retryable]).toEqual([429, false]);
    const paid = await upstreamError({ status: 429, body: JSON.stringify({ error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } }) });
    expect(paid.retryable).toBe(false);
    const minute = await upstreamError({ status: 429, body: JSON.stringify({ message: 'Tokens per minute limit exceeded' }) }, 'openai');
    expect(minute.retryable).toBe(true);
  });

  it('takes no retry-after from rate-limit reset headers unless the answer is a limit', async () => {
    // Cerebras sends x-ratelimit-reset-* on every answer; Claude Code waits retry-after before each retry.
    const headers = { 'x-ratelimit-reset-tokens-minute': '11.4', 'x-ratelimit-remaining-tokens-minute': '0' };
    const e500 = await upstreamError({ status: 500, headers, body: JSON.stringify({ message: 'Internal server error' }) }, 'openai');
    expect(e500.retryAfter).toBeUndefined();
    const e429 = await upstreamError({ status: 429, headers, body: JSON.stringify({ message: 'Tokens per minute limit exceeded' }) }, 'openai');
    expect(e429.retryAfter).toBe(12);
    const told = await upstreamError({ status: 500, headers: { 'retry-after': '3' }, body: '' });
    expect(told.retryAfter).toBe(3);
  });

  it('never says x-api-key, which Claude Code replaces with advice about its own key', async () => {
    const body = JSON.stringify({ type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
    const error = await upstreamError({ status: 401, body }, 'anthropic');
    expect(error.clientMessage()).not.toMatch(/x-api-key/i);
    expect(error.message).toContain('invalid API key');
  });

  it('tells the user to check the API key on 401', async () => {
    const error = await upstreamError({ status: 401, body: JSON.stringify({ error: { message: 'Wrong API Key' } }) });
    expect(error.recommendations.join(' ')).toMatch(/API key/);
  });

  it('maps an overloaded 503 to overloaded_error 529', async () => {
    const error = await upstreamError({ status: 503, body: JSON.stringify({ message: 'We are currently experiencing high traffic; over capacity' }) });
    expect(error.type).toBe('overloaded_error');
    expect(error.status).toBe(529);
  });
});

describe('parseRetryAfter', () => {
  it('reads retry-after seconds and HTTP dates', () => {
    expect(parseRetryAfter({ 'retry-after': '12' })).toBe(12);
    expect(parseRetryAfter({ 'Retry-After': '1.2' })).toBe(2);
    const date = new Date(Date.now() + 30_000).toUTCString();
    const fromDate = parseRetryAfter({ 'retry-after': date });
    expect(fromDate).toBeGreaterThanOrEqual(28);
    expect(fromDate).toBeLessThanOrEqual(31);
    expect(parseRetryAfter({ 'retry-after': new Date(Date.now() - 60_000).toUTCString() })).toBe(0);
  });

  it('reads retry-after-ms', () => {
    expect(parseRetryAfter({ 'retry-after-ms': '1500' })).toBe(2);
  });

  it('falls back to x-ratelimit-reset-* seconds and durations', () => {
    expect(parseRetryAfter({ 'x-ratelimit-reset-requests': '1m30s' })).toBe(90);
    expect(parseRetryAfter({ 'x-ratelimit-reset-tokens': '6ms' })).toBe(1);
    expect(parseRetryAfter({ 'x-ratelimit-reset-tokens-minute': '42.5' })).toBe(43);
  });

  it('prefers the exhausted limit among several', () => {
    const headers = {
      'x-ratelimit-reset-requests-day': '3600',
      'x-ratelimit-remaining-requests-day': '100',
      'x-ratelimit-reset-tokens-minute': '20',
      'x-ratelimit-remaining-tokens-minute': '0',
    };
    expect(parseRetryAfter(headers)).toBe(20);
    expect(parseRetryAfter({ ...headers, 'x-ratelimit-remaining-requests-day': '0' })).toBe(3600);
    expect(parseRetryAfter({ 'x-ratelimit-reset-requests': '5', 'x-ratelimit-reset-tokens': '2s' })).toBe(2);
  });

  it('returns undefined without usable headers', () => {
    expect(parseRetryAfter({})).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': 'soon', 'x-ratelimit-reset-tokens': 'later' })).toBeUndefined();
  });
});

describe('parseDuration', () => {
  it.each([
    ['12', 12],
    ['1.5', 1.5],
    ['1m30s', 90],
    ['6ms', 0.006],
    ['2h', 7200],
    ['1h2m3.5s', 3723.5],
    ['250us', 0.00025],
    [' 3s ', 3],
  ])('%s -> %f s', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds, 9);
  });

  it.each(['', 'abc', '1x', '-3', 's', '1m30'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});
