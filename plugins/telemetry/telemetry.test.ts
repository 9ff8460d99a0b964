import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from '../../tests/support/proxy.js';
import type { TapOnlyHooks } from '../../src/plugin.js';
import { attribute, spanArrived, startReceiver } from '../../tests/support/otlp-receiver.js';

describe('telemetry: a trace per request, exported by OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let upstream: FakeUpstream;
  let px: TestProxy;
  beforeAll(async () => {
    receiver = await startReceiver();
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url, { apiKey: 'sk-gpu-SECRET-0123456789' }) },
      plugins: [['telemetry', { endpoint: receiver.url, protocol: 'http/json', exportIntervalMs: 50 }]],
    });
  });

  it('exports protobuf by default, decoded with the official OTLP definitions', async () => {
    const own = await startReceiver();
    const traced = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [['telemetry', { endpoint: own.url, exportIntervalMs: 50 }]] });
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('protobuf answer') });
    expect((await postMessages(traced.url, { model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
    await spanArrived(own, 'POST /v1/messages');
    await traced.close();
    await own.close();
    expect(own.contentTypes[0]).toBe('application/x-protobuf');
    const server = own.spans().find((s) => s.name === 'POST /v1/messages');
    expect(server?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(attribute(server, 'gen_ai.request.model')).toBe('claude-haiku-4-5');
    expect(own.spans().find((s) => s.name === 'upstream')?.parentSpanId).toBe(server?.spanId);
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
    await receiver?.close();
  });

  it('continues the incoming traceparent, names the backend and the session, and carries no prompt or key', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('traced answer', { usage: { prompt_tokens: 9, completion_tokens: 2 } }) });
    const res = await postMessages(
      px.url,
      { model: 'claude-sonnet-4-5', max_tokens: 30, stream: true, messages: [{ role: 'user', content: 'A PROMPT THAT MUST NOT BE TRACED' }] },
      { traceparent: `00-${traceId}-${parentId}-01`, 'x-claude-code-session-id': 'session-7f3a', 'x-api-key': 'client-key-SECRET' },
    );
    expect(res.status).toBe(200);

    await spanArrived(receiver, 'POST /v1/messages');
    const spans = receiver.spans();
    const server = spans.find((s) => s.name === 'POST /v1/messages');
    const call = spans.find((s) => s.name === 'upstream');
    expect(server?.traceId).toBe(traceId);
    expect(server?.parentSpanId).toBe(parentId);
    expect(server?.kind).toBe(2);
    expect(attribute(server, 'gen_ai.request.model')).toBe('claude-sonnet-4-5');
    expect(attribute(server, 'gen_ai.response.model')).toBe('qwen3-coder:30b');
    expect(attribute(server, 'llm_proxy.backend')).toBe('gpu');
    expect(attribute(server, 'session.id')).toBe('session-7f3a');
    expect(attribute(server, 'llm_proxy.cache.status')).toBe('miss');
    expect(Number(attribute(server, 'gen_ai.usage.output_tokens'))).toBe(2);
    expect(attribute(server, 'llm_proxy.time_to_first_token_ms')).toBeDefined();
    expect(attribute(server, 'gen_ai.response.id')).toMatch(/^msg_/);
    expect(call?.traceId).toBe(traceId);
    expect(call?.parentSpanId).toBe(server?.spanId);
    expect(call?.kind).toBe(3);
    const sent = receiver.bodies.join('\n');
    expect(sent).not.toContain('A PROMPT THAT MUST NOT BE TRACED');
    expect(sent).not.toContain('SECRET');
  });

  it('a span per hook phase under the request, and one for a plugin tap that takes time under its phase', async () => {
    const own = await startReceiver();
    const slowTap = {
      name: 'slow-plugin',
      apply({ hooks }: { hooks: TapOnlyHooks }) {
        hooks.transform.tapPromise('slow-plugin', async (exchange) => {
          // A plugin that does something slow before the request goes upstream.
          if (exchange.phase === 'request') await new Promise((resolve) => setTimeout(resolve, 20));
          return exchange;
        });
      },
    };
    const traced = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url) },
      plugins: [['telemetry', { endpoint: own.url, exportIntervalMs: 50, phaseSpanMs: 0 }], slowTap],
    });
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('after the slow tap') });
    expect((await postMessages(traced.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
    await spanArrived(own, 'POST /v1/messages');
    await traced.close();
    await own.close();
    const spans = own.spans();
    const server = spans.find((s) => s.name === 'POST /v1/messages');
    for (const phase of ['request', 'cacheLookup', 'route']) {
      expect(spans.filter((s) => s.name === phase).map((s) => s.parentSpanId), phase).toEqual([server?.spanId]);
    }
    // transform runs twice: on the request, and on the answer.
    const transforms = spans.filter((s) => s.name === 'transform');
    expect(transforms.map((s) => [attribute(s, 'llm_proxy.exchange'), s.parentSpanId])).toEqual([
      ['request', server?.spanId],
      ['response', server?.spanId],
    ]);
    const transform = transforms[0];
    const tap = spans.find((s) => s.name === 'transform slow-plugin');
    expect(tap?.parentSpanId).toBe(transform?.spanId);
    expect(attribute(tap, 'llm_proxy.plugin')).toBe('slow-plugin');
    // Its phase lasts at least as long as the slow tap.
    const length = (span: typeof tap) => BigInt(String(span?.endTimeUnixNano)) - BigInt(String(span?.startTimeUnixNano));
    expect(length(transform) >= length(tap)).toBe(true);
    // Every phase's time is on the request's span too.
    expect(Number(attribute(server, 'llm_proxy.phase.transform_request_ms'))).toBeGreaterThanOrEqual(Number(length(tap)) / 1e6 - 0.001);
    expect(Number(attribute(server, 'llm_proxy.phase.route_ms'))).toBeGreaterThanOrEqual(0);
  });

  it('by default only a phase that took phaseSpanMs (0.5 ms) or more has a span; every phase has its time on the request span', async () => {
    const own = await startReceiver();
    const slowRoute = {
      name: 'slow-route',
      apply({ hooks }: { hooks: TapOnlyHooks }) {
        hooks.route.tapPromise({ name: 'slow-route', stage: -100 }, async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          return undefined;
        });
      },
    };
    const traced = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [['telemetry', { endpoint: own.url, exportIntervalMs: 50 }], slowRoute] });
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('after the slow route') });
    expect((await postMessages(traced.url, { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })).status).toBe(200);
    await spanArrived(own, 'POST /v1/messages');
    await traced.close();
    await own.close();
    const spans = own.spans();
    const server = spans.find((s) => s.name === 'POST /v1/messages');
    expect(spans.find((s) => s.name === 'route')?.parentSpanId).toBe(server?.spanId);
    expect(spans.find((s) => s.name === 'route slow-route')?.parentSpanId).toBe(spans.find((s) => s.name === 'route')?.spanId);
    expect(Number(attribute(server, 'llm_proxy.phase.route_ms'))).toBeGreaterThanOrEqual(4);
    for (const phase of ['request', 'cacheLookup', 'transform_request', 'transform_response']) {
      expect(attribute(server, `llm_proxy.phase.${phase}_ms`), phase).toBeDefined();
    }
    // The phases that took less have no span: a quick request is a short tree.
    const quick = ['request', 'transform'].filter((name) => spans.some((s) => s.name === name && Number(attribute(server, `llm_proxy.phase.${name === 'transform' ? 'transform_request' : name}_ms`)) < 0.5));
    expect(quick).toEqual([]);
  });

  it('with captureContent on, the new turn and the answer are on the span, clipped; keys still are not', async () => {
    const own = await startReceiver();
    const traced = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url, { apiKey: 'sk-gpu-SECRET-0123456789' }) },
      plugins: [['telemetry', { endpoint: own.url, protocol: 'http/json', exportIntervalMs: 50, captureContent: true }]],
    });
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('THE TRACED ANSWER') });
    const body = {
      model: 'claude-sonnet-4-5',
      max_tokens: 30,
      stream: true,
      system: 'A SYSTEM PROMPT THAT STAYS OFF',
      messages: [
        { role: 'user' as const, content: 'AN EARLIER TURN' },
        { role: 'assistant' as const, content: 'ok' },
        { role: 'user' as const, content: [{ type: 'text' as const, text: `THE NEW TURN ${'x'.repeat(20_000)}` }] },
      ],
    };
    expect((await postMessages(traced.url, body, { 'x-api-key': 'client-key-SECRET' })).status).toBe(200);
    await spanArrived(own, 'POST /v1/messages');
    await traced.close();
    await own.close();
    const server = own.spans().find((s) => s.name === 'POST /v1/messages');
    const input = String(attribute(server, 'gen_ai.input.messages'));
    expect(input).toContain('"role":"user"');
    expect(input).toContain('THE NEW TURN');
    expect(input).toContain('more characters]');
    expect(input.length).toBeLessThan(17_000);
    expect(JSON.parse(String(attribute(server, 'gen_ai.output.messages')))).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: 'THE TRACED ANSWER' }], finish_reason: 'end_turn' }]);
    const sent = own.bodies.join('\n');
    expect(sent).not.toContain('AN EARLIER TURN');
    expect(sent).not.toContain('A SYSTEM PROMPT THAT STAYS OFF');
    expect(sent).not.toContain('SECRET');
  });

  it('a collector that is down fails nothing: the request is answered, and the proxy closes', async () => {
    const { freePort } = await import('../../tests/support/free-port.js');
    const gone = `http://127.0.0.1:${await freePort()}`;
    const lonely = await startProxy({
      backend: 'gpu',
      backends: { gpu: openaiBackend(upstream.url) },
      plugins: [['telemetry', { endpoint: gone, exportIntervalMs: 20 }]],
    });
    upstream.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('answered anyway') });
    const res = await postMessages(lonely.url, { model: 'claude-sonnet-4-5', max_tokens: 30, messages: [{ role: 'user', content: 'hello' }] });
    expect(res.status).toBe(200);
    await lonely.close();
  });
});

