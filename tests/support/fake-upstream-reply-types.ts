import type { StreamEvent } from '../../src/anthropic/types.js';
import type { CerebrasRateLimit } from './cerebras-rate-limit.js';
import type { ChatChunkLike } from './openai-builders.js';

export type UpstreamFormat = 'openai' | 'anthropic' | 'cerebras';

/** A pause inside a stream or raw reply. */
export interface Delay {
  delayMs: number;
}

export interface ReplyCommon {
  /** Extra response headers; they override the defaults (names are case-insensitive). */
  headers?: Record<string, string>;
  /** Cerebras format only: values for the `x-ratelimit-*` headers of this reply. */
  rateLimit?: Partial<CerebrasRateLimit>;
}

/** A JSON body, written with `content-type: application/json` (the body is always JSON.stringify'd). */
export interface JsonReply extends ReplyCommon {
  kind: 'json';
  status?: number;
  body: unknown;
}

/** An OpenAI SSE stream: each chunk is `data: <json>\n\n` in its own write. */
export interface OpenAIStreamReply extends ReplyCommon {
  kind: 'openai-stream';
  chunks: Array<ChatChunkLike | Delay>;
  /** Write `data: [DONE]\n\n` at the end (default true). */
  done?: boolean;
  /** Destroy the socket after this many chunks (delays not counted); no [DONE]. */
  cutAfter?: number;
}

/** An Anthropic SSE stream: each event is `event: <type>\ndata: <json>\n\n` in its own write. */
export interface AnthropicStreamReply extends ReplyCommon {
  kind: 'anthropic-stream';
  events: Array<StreamEvent | Delay>;
  /** Destroy the socket after this many events (delays not counted). */
  cutAfter?: number;
}

/**
 * Exactly these bytes, one write per part. Only the given headers are sent, plus
 * `content-type: text/event-stream` when none is given.
 */
export interface RawReply {
  kind: 'raw';
  status?: number;
  headers?: Record<string, string>;
  parts: Array<string | Buffer | Delay>;
  /** End the response normally (default true); false destroys the socket after the last part. */
  end?: boolean;
}

/** Accept the request and never answer (until the client or `close()` ends it). */
export interface HangReply {
  kind: 'hang';
}

/**
 * An error in the server's own shape: OpenAI `{error:{message,type,code,param}}`, Anthropic
 * `{type:'error',error:{type,message},request_id}`, Cerebras flat `{message,type,param,code}`.
 * `body` replaces the generated body entirely; `message` / `type` / `code` adjust it.
 */
export interface ErrorReply extends ReplyCommon {
  kind: 'error';
  status: number;
  body?: unknown;
  message?: string;
  type?: string;
  code?: string;
}

/** Stay silent (no status line, no headers) for `ms`, then answer with `then`. */
export interface DelayReply {
  kind: 'delay';
  ms: number;
  then: Reply;
}

export type Reply = JsonReply | OpenAIStreamReply | AnthropicStreamReply | RawReply | HangReply | ErrorReply | DelayReply;
