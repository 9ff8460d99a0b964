import Anthropic from '@anthropic-ai/sdk';
import { createProxy, type Proxy } from '../../src/proxy.js';
import type { UserConfig } from '../../src/config/types.js';

export interface TestProxy {
  proxy: Proxy;
  url: string;
  /** Every log line the proxy wrote. */
  logs: string[];
  /** The official SDK pointed at the proxy (no retries, so failures surface). */
  client: Anthropic;
  close(): Promise<void>;
}

/**
 * For tests that send one failure after another to a backend on purpose (fault mapping, secret
 * scrubbing): its circuit would open and answer for it. backend-health has its own tests.
 */
export const NO_CIRCUIT = ['backend-health', { failureThreshold: 0, minRequests: 0 }] as const;

/** An Anthropic error body as the proxy writes it. */
export interface ErrorJson {
  type: string;
  error: { type: string; message: string };
  request_id: string;
}

export const parseError = (text: string): ErrorJson => JSON.parse(text) as ErrorJson;

/** A proxy on a free loopback port, logging into memory. */
export async function startProxy(config: UserConfig, opts: { apiKey?: string } = {}): Promise<TestProxy> {
  const logs: string[] = [];
  const proxy = await createProxy({ logLevel: 'debug', logFormat: 'json', ...config }, { logSink: (line) => logs.push(line) });
  const url = await proxy.listen(0, '127.0.0.1');
  const client = new Anthropic({ baseURL: url, apiKey: opts.apiKey ?? 'test-key', maxRetries: 0 });
  return { proxy, url, logs, client, close: () => proxy.close() };
}

/** An OpenAI-format backend config pointing at a fake upstream. */
export const openaiBackend = (url: string, extra: Record<string, unknown> = {}) => ({
  type: 'openai' as const,
  url: `${url}/v1`,
  model: 'qwen3-coder:30b',
  ...extra,
});

export async function postMessages(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'test-key', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Parse an SSE body into [event, data] pairs. */
export function parseSSE(text: string): Array<{ event: string; data: unknown }> {
  return text
    .split('\n\n')
    .filter((frame) => frame.trim() !== '')
    .map((frame) => {
      const event = /^event: (.*)$/m.exec(frame)?.[1] ?? '';
      const data = /^data: (.*)$/m.exec(frame)?.[1] ?? 'null';
      return { event, data: JSON.parse(data) as unknown };
    });
}
