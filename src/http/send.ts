import type { ServerResponse } from 'node:http';
import type { ErrorResponseBody, StreamEvent, Usage } from '../anthropic/types.js';
import { encodeEvent } from '../anthropic/sse.js';
import { ProxyError, toProxyError } from '../errors.js';
import type { SecretScrubber } from '../secrets/scrubber.js';

export function errorBody(error: ProxyError, requestId: string): ErrorResponseBody {
  return { type: 'error', error: { type: error.type, message: error.clientMessage() }, request_id: requestId };
}

export interface StreamSummary {
  complete: boolean;
  /** The answer's message id (`message_start`). */
  messageId?: string;
  usage?: Usage;
  stopReason?: string | null;
  error?: ProxyError;
  /** `performance.now()` when the first event was written (pings do not count). */
  firstEventAt?: number;
}

export interface StreamOptions {
  res: ServerResponse;
  headers: Record<string, string>;
  pingIntervalMs: number;
  signal: AbortSignal;
  /** Masks secrets in the headers and an `event: error` (never in model output). */
  scrubber: SecretScrubber;
}

const PING = encodeEvent({ type: 'ping' });

/**
 * Write Anthropic events as SSE as soon as each arrives. Headers are committed with the
 * first event (or first ping), so a failure before then rejects and becomes an HTTP error.
 */
export async function sendStream(events: AsyncIterable<StreamEvent>, opts: StreamOptions): Promise<StreamSummary> {
  const { res } = opts;
  const iterator = events[Symbol.asyncIterator]();
  const summary: StreamSummary = { complete: false };
  let started = false;

  const start = () => {
    if (started) return;
    started = true;
    res.writeHead(200, {
      ...opts.scrubber.headers(opts.headers),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
  };
  // Events that arrive together (one upstream chunk makes several) leave in one write: they are
  // held until the current turn's work is done, and the last of them go with the end of the
  // response (Node writes that data and the closing chunk together): a short answer is one write.
  let held = '';
  let flushing = false;
  const flush = () => {
    flushing = false;
    if (!held) return;
    const data = held;
    held = '';
    if (!res.destroyed && !res.writableEnded) res.write(data);
  };
  /** A promise only when the client is behind (awaiting every write would cost promises on every event). */
  const write = (chunk: string): Promise<void> | undefined => {
    held += chunk;
    if (!flushing) {
      flushing = true;
      process.nextTick(flush);
    }
    if (res.writableNeedDrain) {
      return new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    return undefined;
  };

  // One timer for the whole stream (not one per event): ping when nothing was written lately.
  let lastWrite = Date.now();
  const pinger =
    opts.pingIntervalMs > 0
      ? setInterval(() => {
          if (Date.now() - lastWrite < opts.pingIntervalMs || res.writableEnded || res.destroyed) return;
          start();
          lastWrite = Date.now();
          held += PING;
          flush();
        }, Math.max(1, Math.floor(opts.pingIntervalMs / 2)))
      : undefined;

  try {
    for (;;) {
      const result = await iterator.next();
      if (result.done) break;
      const event = result.value;
      if (opts.signal.aborted) break;
      start();
      summary.firstEventAt ??= performance.now();
      observe(event, summary);
      lastWrite = Date.now();
      const behind = write(encodeEvent(event));
      if (behind) await behind;
      if (event.type === 'message_stop') {
        summary.complete = true;
        break;
      }
    }
    if (!summary.complete && !opts.signal.aborted) {
      throw new ProxyError('the upstream stream ended before message_stop', { code: 'upstream_incomplete', type: 'api_error', status: 502 });
    }
  } catch (thrown) {
    const error = toProxyError(thrown);
    summary.error = error;
    summary.complete = false;
    clearInterval(pinger);
    // Nothing written yet: the caller can still send a proper HTTP error.
    if (!started) throw error;
    if (!res.writableEnded && !res.destroyed) {
      await write(encodeEvent({ type: 'error', error: { type: error.type, message: opts.scrubber.text(error.clientMessage()) } }));
    }
  } finally {
    clearInterval(pinger);
    void iterator.return?.();
  }
  const rest = held;
  held = '';
  if (started && !res.writableEnded) res.end(rest || undefined);
  return summary;
}

function observe(event: StreamEvent, summary: StreamSummary): void {
  if (event.type === 'message_start') {
    summary.usage = { ...event.message.usage };
    summary.messageId = event.message.id;
  }
  else if (event.type === 'message_delta') {
    summary.usage = { ...(summary.usage ?? { input_tokens: 0 }), ...event.usage };
    summary.stopReason = event.delta.stop_reason;
  } else if (event.type === 'error') {
    throw new ProxyError(event.error.message, { code: 'upstream_stream_error', type: event.error.type });
  }
}
