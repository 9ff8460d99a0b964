import type { IncomingMessage } from 'node:http';
import { Agent, request } from 'undici';
import { DependencyHealth, redactUrl, type Logger, type PluginApi } from '../../src/plugin.js';

export const SIGNALS = ['traces', 'metrics', 'logs'] as const;
export type Signal = (typeof SIGNALS)[number];

/** Set on what the proxy forwards: one that comes back (a collector URL that is the proxy itself) is refused, not looped. */
const FORWARDED = 'x-llm-proxy-forwarded';
/** An OTLP export is a few hundred KB at most (a batch of 512 spans); more is not one. */
const MAX_EXPORT_BYTES = 16 * 2 ** 20;
const TIMEOUT_MS = 10_000;

/** The collector URL for one signal: the plugin's `endpoint`, else the standard variables, else Jaeger's default. */
export function collectorUrl(signal: Signal, endpoint: string | undefined): string {
  if (endpoint !== undefined) return `${endpoint.replace(/\/+$/, '')}/v1/${signal}`;
  const exact = process.env[`OTEL_EXPORTER_OTLP_${signal.toUpperCase()}_ENDPOINT`];
  if (exact) return exact;
  return `${(process.env.OTEL_EXPORTER_OTLP_ENDPOINT || 'http://127.0.0.1:4318').replace(/\/+$/, '')}/v1/${signal}`;
}

/**
 * Claude Code's own OpenTelemetry exports (`CLAUDE_CODE_ENABLE_TELEMETRY=1`, its traces with
 * `CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1`), taken on the proxy's port at the OTLP/HTTP paths
 * (`POST /v1/traces`, `/v1/metrics`, `/v1/logs`) and passed on unchanged (protobuf or JSON) to the
 * collector the proxy's own traces go to, so one Jaeger shows both. Client keys apply as to every
 * route. What a collector answers goes back to Claude Code's exporter, which retries a 5xx.
 */
export function forwardClaudeCode(kernel: Pick<PluginApi, 'router'>, signals: readonly Signal[], endpoint: string | undefined, logger: Logger): { close(): Promise<void> } {
  const agent = new Agent({ keepAliveTimeout: 30_000, connect: { timeout: TIMEOUT_MS } });
  const health = new DependencyHealth(logger, {
    down: (reason) => `telemetry: Claude Code's exports cannot reach the collector (${reason}); Claude Code retries them`,
    up: "telemetry: Claude Code's exports reach the collector again",
  });
  for (const signal of signals) {
    const target = collectorUrl(signal, endpoint);
    kernel.router.post(`/v1/${signal}`, async (koa) => {
      koa.set('cache-control', 'no-store');
      if (koa.get(FORWARDED)) {
        koa.status = 508;
        koa.body = { code: 3, message: `the collector URL for ${signal} (${redactUrl(target)}) leads back to this proxy; set the telemetry plugin's endpoint to the collector` };
        return;
      }
      const body = await readExport(koa.req);
      if (!body) {
        koa.status = 413;
        koa.body = { code: 3, message: `an OTLP export is at most ${MAX_EXPORT_BYTES} bytes` };
        return;
      }
      try {
        const answer = await request(target, {
          method: 'POST',
          dispatcher: agent,
          headersTimeout: TIMEOUT_MS,
          bodyTimeout: TIMEOUT_MS,
          headers: {
            'content-type': koa.get('content-type') || 'application/x-protobuf',
            ...(koa.get('content-encoding') ? { 'content-encoding': koa.get('content-encoding') } : {}),
            [FORWARDED]: '1',
          },
          body,
        });
        const reply = Buffer.from(await answer.body.arrayBuffer());
        health.up();
        koa.status = answer.statusCode;
        const type = answer.headers['content-type'];
        if (typeof type === 'string') koa.set('content-type', type);
        koa.body = reply;
      } catch (error) {
        const reason = error instanceof Error && 'code' in error ? String(error.code) : 'no answer';
        health.down(`${redactUrl(target)}: ${reason}`);
        // 503: OTLP exporters retry it with backoff.
        koa.status = 503;
        koa.body = { code: 14, message: `the collector at ${redactUrl(target)} is unreachable (${reason})` };
      }
    });
  }
  return { close: () => agent.close() };
}

/** The export's bytes, or undefined past the limit. */
async function readExport(req: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_EXPORT_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
