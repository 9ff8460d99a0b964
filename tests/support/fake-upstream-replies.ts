// Writes the fake upstream's replies onto a response, byte-exactly in the server's wire format.

import type { ServerResponse } from 'node:http';
import { cerebrasRateLimitHeaders, type CerebrasRateLimit } from './cerebras-rate-limit.js';
import { errorBody } from './fake-upstream-errors.js';
import type { AnthropicStreamReply, Delay, OpenAIStreamReply, Reply, ReplyCommon, UpstreamFormat } from './fake-upstream-reply-types.js';
import { randomAlnum, randomHex } from './random-ids.js';

/** What the writers read of the server; getters, since tests change the values between replies. */
export interface ReplyServer {
  readonly format: UpstreamFormat;
  /** Cerebras format: default values of the rate-limit headers. */
  readonly rateLimit: CerebrasRateLimit;
  /** True once `close()` began: writers stop. */
  readonly closed: boolean;
}

export interface ReplyContext {
  server: ReplyServer;
  res: ServerResponse;
  signal: AbortSignal;
  requestModel: string | undefined;
}

export async function sendReply(reply: Reply, ctx: ReplyContext): Promise<void> {
  const { res, server } = ctx;
  if (!alive(ctx)) return;
  switch (reply.kind) {
    case 'json': {
      const status = reply.status ?? 200;
      const payload = JSON.stringify(reply.body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
        ...baseHeaders(server, reply, status),
      });
      res.end(payload);
      return;
    }
    case 'error': {
      const body = reply.body !== undefined ? reply.body : errorBody(server.format, reply, ctx.requestModel);
      const payload = JSON.stringify(body);
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
        ...(server.format === 'anthropic' ? { 'x-should-retry': String(reply.status >= 500 || reply.status === 429) } : {}),
        ...baseHeaders(server, reply, reply.status),
      });
      res.end(payload);
      return;
    }
    case 'openai-stream':
      if (!(await writeEvents(reply, reply.chunks, (chunk) => `data: ${JSON.stringify(chunk)}\n\n`, ctx))) return;
      if (reply.done !== false) await write(res, 'data: [DONE]\n\n');
      res.end();
      return;
    case 'anthropic-stream':
      if (!(await writeEvents(reply, reply.events, (event) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`, ctx))) return;
      res.end();
      return;
    case 'raw': {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;
      if (headers['content-type'] === undefined) headers['content-type'] = 'text/event-stream';
      res.writeHead(reply.status ?? 200, headers);
      res.flushHeaders();
      for (const part of reply.parts) {
        if (isDelay(part)) {
          await sleep(part.delayMs, ctx.signal);
        } else {
          await write(res, part);
        }
        if (!alive(ctx)) return;
      }
      if (reply.end === false) res.destroy();
      else res.end();
      return;
    }
    case 'hang':
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return;
    case 'delay':
      await sleep(reply.ms, ctx.signal);
      await sendReply(reply.then, ctx);
      return;
  }
}

/**
 * The SSE headers, then one write per item (pausing on delays). False when the response is over:
 * the client or the server went away, or `cutAfter` destroyed the socket.
 */
async function writeEvents<T>(
  reply: OpenAIStreamReply | AnthropicStreamReply,
  items: ReadonlyArray<T | Delay>,
  encode: (item: T) => string,
  ctx: ReplyContext,
): Promise<boolean> {
  const { res } = ctx;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...baseHeaders(ctx.server, reply, 200) });
  res.flushHeaders();
  let written = 0;
  for (const item of items) {
    if (isDelay(item)) {
      await sleep(item.delayMs, ctx.signal);
      if (!alive(ctx)) return false;
      continue;
    }
    if (reply.cutAfter !== undefined && written >= reply.cutAfter) break;
    await write(res, encode(item));
    written++;
    if (!alive(ctx)) return false;
  }
  if (reply.cutAfter !== undefined) {
    res.destroy();
    return false;
  }
  return true;
}

function baseHeaders(server: ReplyServer, reply: ReplyCommon, status: number): Record<string, string> {
  const headers: Record<string, string> = {};
  if (server.format === 'anthropic') headers['request-id'] = `req_${randomAlnum(24)}`;
  else headers['x-request-id'] = randomHex(32);
  if (server.format === 'cerebras') {
    const values: CerebrasRateLimit = { ...server.rateLimit, ...(status === 429 ? { remainingRequestsDay: 0 } : {}), ...reply.rateLimit };
    Object.assign(headers, cerebrasRateLimitHeaders(values));
  }
  for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;
  return headers;
}

function alive({ server, res }: ReplyContext): boolean {
  return !server.closed && !res.destroyed && !res.writableEnded;
}

export function isDelay(item: unknown): item is Delay {
  return (
    typeof item === 'object' &&
    item !== null &&
    !Buffer.isBuffer(item) &&
    typeof (item as { delayMs?: unknown }).delayMs === 'number' &&
    Object.keys(item).length === 1
  );
}

export function write(res: ServerResponse, chunk: string | Buffer): Promise<void> {
  return new Promise<void>((resolve) => {
    if (res.destroyed || res.writableEnded) {
      resolve();
      return;
    }
    const onClose = (): void => resolve();
    res.once('close', onClose);
    res.write(chunk, () => {
      res.off('close', onClose);
      // Let the bytes leave before the next write so that every part is its own TCP segment.
      setImmediate(resolve);
    });
  });
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
