// Log redaction (issue 10 item 3): every log line of a failing run, at debug level, is free of the
// key. The real `llm-proxy start --log-level debug` with a `logFile`, a backend key and a client
// key from the environment, in front of a loopback upstream that rejects every request and quotes
// the key it received in its body (JSON, text, HTML, SSE) or in its headers; the client sends its
// key as `x-api-key` and as `authorization: Bearer`. stderr (a pipe, so JSON) and the log file are
// read line by line.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { mode, sandbox, startProxy, waitUntil } from './support/cli.js';
import { startEchoUpstream, type EchoMode, type EchoUpstream } from './support/echo-upstream.js';
import { NO_CIRCUIT } from './support/proxy.js';

const BACKEND_KEY = 'csk-logtest-4e9b1d7c2a6f8e3b5d0a';
const CLIENT_KEY = 'llmp-client-9a7c5e3b1d2f4a6c8e0b';

const b64 = (text: string): string => Buffer.from(text).toString('base64');
/** The forms a key can take in a line: as is, URL-encoded, base64 (a Basic header), padded or not. */
const formsOf = (secret: string): string[] => [...new Set([secret, encodeURIComponent(secret), b64(secret), b64(secret).replace(/=+$/, ''), b64(`user:${secret}`)])];

let echo: EchoUpstream;
beforeAll(async () => {
  echo = await startEchoUpstream();
});
afterAll(async () => {
  await echo.close();
});

async function send(url: string, stream: boolean): Promise<number> {
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': CLIENT_KEY, authorization: `Bearer ${CLIENT_KEY}` },
    body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 20, stream, messages: [{ role: 'user', content: `hi (${stream ? 'stream' : 'json'})` }] }),
  });
  await res.text();
  return res.status;
}

const accessLines = (text: string): number => text.split('\n').filter((line) => line.includes('"msg":"messages')).length;

describe('log redaction', () => {
  it('every line of a failing run at debug level, on stderr and in the log file, is JSON and free of every key', async () => {
    const box = sandbox({
      backend: 'cloud',
      port: 'auto',
      logFile: 'logs/proxy.log',
      auth: { keys: ['${LOG_TEST_CLIENT_KEY}'] },
      backends: { cloud: { type: 'openai', url: `${echo.url}/v1`, apiKey: '${LOG_TEST_BACKEND_KEY}', model: 'm' } },
      plugins: [NO_CIRCUIT],
    });
    box.env.LOG_TEST_BACKEND_KEY = BACKEND_KEY;
    box.env.LOG_TEST_CLIENT_KEY = CLIENT_KEY;
    const proxy = await startProxy(box, ['--log-level', 'debug']);

    const modes: EchoMode[] = ['json', 'text', 'html', 'header', 'sse', 'sse-after-start'];
    let sent = 0;
    for (const echoMode of modes) {
      echo.mode = echoMode;
      for (const split of [false, true]) {
        echo.split = split;
        for (const stream of [false, true]) {
          const status = await send(proxy.url, stream);
          // A JSON failure is an HTTP error; a stream may have started (200) and then carried `event: error`.
          if (!stream) expect(status, `${echoMode}${split ? ', split' : ''}`).toBeGreaterThanOrEqual(400);
          sent++;
        }
      }
    }
    // The upstream really saw the backend key, and quoted it back.
    expect(echo.received).toContain(BACKEND_KEY);
    await waitUntil(() => accessLines(proxy.stderr()) >= sent, `${sent} access lines`, 30_000);

    proxy.child.kill('SIGTERM');
    const exited = await proxy.result;
    expect(exited.code, exited.stderr).toBe(0);

    const logFile = join(box.workspace, 'logs', 'proxy.log');
    const fileText = readFileSync(logFile, 'utf8');
    expect(mode(logFile)).toBe(0o600);
    for (const [where, text] of [
      ['stderr', exited.stderr],
      ['the log file', fileText],
    ] as const) {
      const lines = text.split('\n').filter((line) => line !== '');
      const parsed = lines.map((line) => {
        expect(() => JSON.parse(line) as unknown, `${where}: not JSON: ${line}`).not.toThrow();
        return JSON.parse(line) as { level: string; msg: string; error?: string };
      });
      expect(parsed.some((line) => line.level === 'debug'), `${where} has debug lines`).toBe(true);
      expect(parsed.filter((line) => line.msg.startsWith('messages failed')).length, `${where}: one access line per request`).toBe(sent);
      expect(text, `${where} shows the quoted key masked`).toContain('[redacted]');
      expect(parsed.some((line) => line.msg === 'shutting down'), `${where} has the shutdown line`).toBe(true);
      for (const secret of [BACKEND_KEY, CLIENT_KEY]) {
        for (const form of formsOf(secret)) expect(text, `${where} leaks ${form}`).not.toContain(form);
        // Nor its start, where an upstream's quote was cut short.
        expect(text, `${where} leaks the start of a key`).not.toContain(secret.slice(0, 12));
      }
    }
    // The file holds the same lines as stderr: every line, JSON.
    expect(fileText).toBe(exited.stderr);
  });

  it('censors fields named for credentials, at the top level and one level down, in a child binding too, whatever they hold', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', format: 'json', sink: (line) => lines.push(line), secrets: () => [BACKEND_KEY] });
    const child = logger.child({ request: 'req_1', apiKey: 'short' });
    child.debug('upstream said: Incorrect API key provided: ' + BACKEND_KEY, {
      authorization: 'Bearer not-configured-anywhere',
      'x-api-key': 'also-unknown-key',
      password: 'hunter2hunter2',
      token: 'tok-123456',
      headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-api-key': 'nested-unknown-key', accept: 'application/json' },
      body: `{"key":"${BACKEND_KEY}"}`,
      status: 401,
    });
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'debug',
      time: expect.any(String),
      request: 'req_1',
      apiKey: '[redacted]',
      authorization: '[redacted]',
      'x-api-key': '[redacted]',
      password: '[redacted]',
      token: '[redacted]',
      headers: { authorization: '[redacted]', 'x-api-key': '[redacted]', accept: 'application/json' },
      body: '{"key":"[redacted]"}',
      status: 401,
      msg: 'upstream said: Incorrect API key provided: [redacted]',
    });
  });
});
