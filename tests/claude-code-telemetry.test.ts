// Claude Code's own OpenTelemetry exports through the proxy: `llm-proxy code` points the real CLI's
// exporters at the proxy, which forwards them to the collector its own traces go to, so one
// collector holds both, findable together by session and request id.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claudeBinDir, claudeMissing } from './support/claude-cli.js';
import { run, sandbox, scripted, tempDir } from './support/cli.js';
import { freePort } from './support/free-port.js';
import { attribute, startReceiver, type OtlpReceiver } from './support/otlp-receiver.js';
import { startProxy } from './support/proxy.js';

const CLIENT_KEY = 'client-key-TELEMETRY-0123456789';

describe('Claude Code telemetry forwarded by the proxy', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver?.close());

  it.skipIf(claudeMissing)('the real CLI under `llm-proxy code` exports its traces, metrics and logs through the proxy to the collector', { timeout: 150_000 }, async () => {
    const box = sandbox({
      port: 'auto',
      backends: { main: scripted('pong') },
      auth: { keys: [CLIENT_KEY] },
      plugins: [['telemetry', { endpoint: receiver.url, protocol: 'http/json', exportIntervalMs: 50, claudeCode: true }]],
    });
    const env: NodeJS.ProcessEnv = {
      ...box.env,
      PATH: `${claudeBinDir}${delimiter}${box.env.PATH ?? ''}`,
      HOME: tempDir('llm-proxy-claude-home-'),
      IS_SANDBOX: '1',
      DISABLE_AUTOUPDATER: '1',
    };
    for (const name of Object.keys(env)) if (name.startsWith('CLAUDE') || name.startsWith('OTEL_')) delete env[name];
    const result = await run(box, ['code', '--', '-p', 'say pong', '--output-format', 'json', '--dangerously-skip-permissions'], env);
    expect(result.code, `${result.stderr}\n${result.stdout}`).toBe(0);
    expect((JSON.parse(result.stdout) as { result: string }).result).toContain('pong');

    // The CLI flushes its exports as it exits, and `code` closes the proxy after it: everything is there.
    const paths = new Set(receiver.received.map((r) => r.path));
    expect([...paths].sort()).toEqual(['/v1/logs', '/v1/metrics', '/v1/traces']);
    for (const signal of ['/v1/metrics', '/v1/logs']) {
      const sent = receiver.received.filter((r) => r.path === signal);
      expect(sent[0]?.contentType).toBe('application/x-protobuf');
      expect(sent.some((r) => r.body.includes('claude-code'))).toBe(true);
      // The key the CLI needed for the proxy stays between the two.
      expect(sent.some((r) => JSON.stringify(r.headers).includes(CLIENT_KEY))).toBe(false);
    }
    const spans = receiver.spans();
    const proxySpan = spans.find((s) => s.name === 'POST /v1/messages');
    const llmRequest = spans.find((s) => s.name === 'claude_code.llm_request');
    expect(llmRequest).toBeDefined();
    expect(proxySpan).toBeDefined();
    // One session, one request: the CLI's span and the proxy's name the same ones.
    expect(attribute(proxySpan, 'session.id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(attribute(llmRequest, 'session.id')).toBe(attribute(proxySpan, 'session.id'));
    const requestIds = spans.filter((s) => s.name === 'gen_ai.request.attempt' || s.name === 'claude_code.llm_request').map((s) => attribute(s, 'request_id'));
    expect(attribute(proxySpan, 'llm_proxy.request_id')).toMatch(/.+/);
    expect(requestIds).toContain(attribute(proxySpan, 'llm_proxy.request_id'));
    expect(attribute(proxySpan, 'gen_ai.response.id')).toMatch(/^msg_/);
    expect(receiver.bodies.join('\n')).not.toContain(CLIENT_KEY);
  });
});

describe('the forwarding routes', () => {
  let hole: Server;
  beforeAll(async () => {
    // A collector that answers 200 after echoing nothing back: to see what the proxy relays.
    hole = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(req.url === '/v1/logs' ? 404 : 200, { 'content-type': 'application/json' });
        res.end(req.url === '/v1/logs' ? '{"message":"no logs pipeline"}' : '{"partialSuccess":{}}');
      });
    });
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => new Promise<void>((resolve) => hole.close(() => resolve())));

  const post = (url: string, path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    fetch(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

  it("relays the collector's answer, names an unreachable collector with a 503 its exporter retries, and refuses a loop", async () => {
    const collector = `http://127.0.0.1:${(hole.address() as AddressInfo).port}`;
    const px = await startProxy({ backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: 'hi' }] } }, plugins: [['telemetry', { endpoint: collector, claudeCode: { signals: ['metrics', 'logs'] } }]] });
    const gone = `http://127.0.0.1:${await freePort()}`;
    const down = await startProxy({ backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: 'hi' }] } }, plugins: [['telemetry', { endpoint: gone, claudeCode: true }]] });
    try {
      const metrics = await post(px.url, '/v1/metrics', '{"resourceMetrics":[]}');
      expect(metrics.status).toBe(200);
      expect(await metrics.json()).toEqual({ partialSuccess: {} });
      const logs = await post(px.url, '/v1/logs', '{"resourceLogs":[]}');
      expect(logs.status).toBe(404);
      expect(await logs.text()).toContain('no logs pipeline');
      // Only the signals configured have a route.
      expect((await post(px.url, '/v1/traces', '{}')).status).toBe(404);

      const unreachable = await post(down.url, '/v1/traces', '{"resourceSpans":[]}');
      expect(unreachable.status).toBe(503);
      expect(((await unreachable.json()) as { message: string }).message).toContain(`the collector at ${gone}/v1/traces is unreachable`);
      expect((await fetch(`${down.url}/health`)).status).toBe(200);

      const looped = await post(px.url, '/v1/metrics', '{}', { 'x-llm-proxy-forwarded': '1' });
      expect(looped.status).toBe(508);
      expect(((await looped.json()) as { message: string }).message).toContain('leads back to this proxy');

      const huge = await post(px.url, '/v1/metrics', Buffer.alloc(17 * 2 ** 20, 0x20));
      expect(huge.status).toBe(413);
      expect((await post(px.url, '/v1/metrics', '{}')).status).toBe(200);
    } finally {
      await px.close();
      await down.close();
    }
  });

  it('wants a client key when the proxy has them, as every route does', async () => {
    const collector = `http://127.0.0.1:${(hole.address() as AddressInfo).port}`;
    const px = await startProxy({
      backend: 'canned',
      auth: { keys: [CLIENT_KEY] },
      backends: { canned: { type: 'scripted', responses: [{ text: 'hi' }] } },
      plugins: [['telemetry', { endpoint: collector, claudeCode: true }]],
    });
    try {
      expect((await post(px.url, '/v1/metrics', '{}')).status).toBe(401);
      expect((await post(px.url, '/v1/metrics', '{}', { authorization: `Bearer ${CLIENT_KEY}` })).status).toBe(200);
    } finally {
      await px.close();
    }
  });
});
