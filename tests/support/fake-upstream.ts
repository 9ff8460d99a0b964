// A scriptable fake upstream: a real node:http server on 127.0.0.1 that speaks the OpenAI
// (vLLM / Ollama / LiteLLM), Cerebras or Anthropic wire format byte-exactly. Every test scripts
// the replies it needs (`enqueue`) and inspects what the proxy sent (`requests`).
//
//   const fake = await startFakeUpstream({ format: 'cerebras' });
//   fake.enqueue({ kind: 'openai-stream', chunks: openaiTextChunks('hello') });
//   ... point the proxy at fake.url ...
//   expect(fake.requests[0]?.body).toMatchObject({ stream: true });
//   await fake.close();
//
// Endpoints
//   openai / cerebras: POST <any prefix>/chat/completions (scripted), GET <prefix>/models,
//                      GET <prefix>/models/<id>, GET /api/tags and /api/version (Ollama's native
//                      health endpoints, answered from the same model list).
//   anthropic:         POST <prefix>/v1/messages (scripted, any query string),
//                      POST <prefix>/v1/messages/count_tokens (scripted with enqueueCountTokens,
//                      else an estimate), GET <prefix>/models, GET <prefix>/models/<id>.
//   all formats:       HEAD <any> -> 200 with no body (Claude Code sends `HEAD /` first);
//                      anything else -> 404 in the format's error shape.

import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import type {
  ContentBlockStart,
  Message,
  ResponseContentBlock,
  StopReason,
  StreamEvent,
  Usage,
} from '../../src/anthropic/types.js';

// ---------------------------------------------------------------------------------------------
// OpenAI wire shapes (what vLLM, Ollama's /v1, LiteLLM and Cerebras send)
// ---------------------------------------------------------------------------------------------

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number } | null;
  completion_tokens_details?: { reasoning_tokens: number } | null;
}

export interface OpenAIToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface OpenAIChunkDelta {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string;
  reasoning?: string;
  tool_calls?: OpenAIToolCallDelta[];
}

export interface OpenAIChunkChoice {
  index: number;
  delta: OpenAIChunkDelta;
  logprobs: null;
  finish_reason: OpenAIFinishReason | null;
}

export interface OpenAIChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string | null;
  choices: OpenAIChunkChoice[];
  usage?: OpenAIUsage | null;
}

/** A chunk of an `openai-stream` reply: a well-formed chunk or any JSON object (provider extras, oddities). */
export type ChatChunkLike = OpenAIChatChunk | { readonly [key: string]: unknown };

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAIResponseMessage {
  role: 'assistant';
  content: string | null;
  reasoning_content?: string;
  reasoning?: string;
  tool_calls?: OpenAIToolCall[];
}

export interface OpenAIChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string | null;
  choices: Array<{
    index: number;
    message: OpenAIResponseMessage;
    logprobs: null;
    finish_reason: OpenAIFinishReason;
  }>;
  usage: OpenAIUsage;
}

// ---------------------------------------------------------------------------------------------
// Replies
// ---------------------------------------------------------------------------------------------

export type UpstreamFormat = 'openai' | 'anthropic' | 'cerebras';

/** A pause inside a stream or raw reply. */
export interface Delay {
  delayMs: number;
}

/** The Cerebras rate-limit headers. Resets are seconds; they are written as float strings. */
export interface CerebrasRateLimit {
  limitRequestsDay: number;
  remainingRequestsDay: number;
  limitTokensMinute: number;
  remainingTokensMinute: number;
  resetRequestsDay: number;
  resetTokensMinute: number;
}

export const defaultCerebrasRateLimit: Readonly<CerebrasRateLimit> = Object.freeze({
  limitRequestsDay: 14400,
  remainingRequestsDay: 14399,
  limitTokensMinute: 60000,
  remainingTokensMinute: 59000,
  resetRequestsDay: 33011.382867097855,
  resetTokensMinute: 11.382867097855,
});

interface ReplyCommon {
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

// ---------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------

export type Endpoint = 'chat' | 'count_tokens' | 'models' | 'other';

export interface RecordedRequest {
  method: string;
  /** Path with query string, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON, else the raw text; undefined when there is no body. */
  body: unknown;
  rawBody: string;
  /** Date.now() when the request arrived. */
  receivedAt: number;
  endpoint: Endpoint;
  /** Set to true when the client's socket closed before the response was complete. */
  aborted: boolean;
}

export interface FakeUpstream {
  readonly format: UpstreamFormat;
  /** Origin, e.g. `http://127.0.0.1:43210` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Every request received, in arrival order (HEAD and model-list requests included). */
  readonly requests: RecordedRequest[];
  /** Only the POSTs to the chat / messages endpoint. */
  readonly chatRequests: RecordedRequest[];
  /** Sockets open right now. */
  readonly connections: number;
  /** Sockets accepted since start. */
  readonly totalConnections: number;
  /** Scripted replies not yet consumed. */
  readonly pending: number;
  /** Replies for the chat / messages endpoint, consumed in order, one per POST. */
  enqueue(...replies: Reply[]): void;
  /** Anthropic format: replies for `/v1/messages/count_tokens` (else `{input_tokens: estimate}`). */
  enqueueCountTokens(...replies: Reply[]): void;
  /** The reply used when the queue is empty (default: a 500 "fake upstream: no scripted reply"). */
  setFallback(reply: Reply | undefined): void;
  setModels(ids: string[]): void;
  /** Answer the model-list endpoints with this reply instead of the list (undefined restores it). */
  setModelsReply(reply: Reply | undefined): void;
  /** Cerebras format: default values of the rate-limit headers. */
  setRateLimit(values: Partial<CerebrasRateLimit>): void;
  /**
   * Resolves when the socket of the most recent request still being answered closes — or, when no
   * request is in flight, the socket of the next request. Rejects after `timeoutMs` (default 10 s).
   */
  waitForClientClose(timeoutMs?: number): Promise<void>;
  /** Resolves once `count` requests (of `endpoint`, when given) were recorded. */
  waitForRequests(count: number, opts?: { endpoint?: Endpoint; timeoutMs?: number }): Promise<RecordedRequest[]>;
  /** Forget recorded requests and scripted replies. */
  reset(): void;
  /** Destroys every open socket, then stops listening. Idempotent. */
  close(): Promise<void>;
}

const NO_REPLY_MESSAGE = 'fake upstream: no scripted reply';

const DEFAULT_MODELS: Record<UpstreamFormat, string[]> = {
  openai: ['qwen3-coder:30b', 'Qwen/Qwen3-Coder-30B-A3B-Instruct'],
  cerebras: ['qwen-3-coder-480b', 'gpt-oss-120b', 'llama-3.3-70b'],
  anthropic: ['claude-sonnet-4-5-20250929', 'claude-opus-4-1-20250805', 'claude-haiku-4-5-20251001'],
};

interface InFlight {
  socketClosed: Promise<void>;
  done: boolean;
}

export async function startFakeUpstream(opts: { format?: UpstreamFormat } = {}): Promise<FakeUpstream> {
  const format: UpstreamFormat = opts.format ?? 'openai';
  const requests: RecordedRequest[] = [];
  let queue: Reply[] = [];
  let countTokensQueue: Reply[] = [];
  let fallback: Reply | undefined;
  let models = [...DEFAULT_MODELS[format]];
  let modelsReply: Reply | undefined;
  let rateLimit: CerebrasRateLimit = { ...defaultCerebrasRateLimit };
  let closed = false;
  let totalConnections = 0;
  const sockets = new Set<Socket>();
  const inFlight: InFlight[] = [];
  const socketCloses = new WeakMap<Socket, Promise<void>>();
  const controllers = new Set<AbortController>();
  const arrivalListeners = new Set<(entry: InFlight) => void>();
  const recordListeners = new Set<() => void>();
  const closeListeners = new Set<() => void>();

  const server = createServer({ noDelay: true, keepAlive: true });

  server.on('connection', (socket: Socket) => {
    totalConnections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake upstream: handler failed: ${err instanceof Error ? err.message : String(err)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const receivedAt = Date.now();
    const socket = req.socket;
    // One close listener per socket, not per request: keep-alive sockets serve many requests.
    let socketClosed = socketCloses.get(socket);
    if (!socketClosed) {
      socketClosed = new Promise<void>((resolve) => {
        if (socket.destroyed) resolve();
        else socket.once('close', () => resolve());
      });
      socketCloses.set(socket, socketClosed);
    }
    const entry: InFlight = { socketClosed, done: false };
    inFlight.push(entry);
    const controller = new AbortController();
    controllers.add(controller);
    res.on('error', () => undefined);
    req.on('error', () => undefined);

    let record: RecordedRequest | undefined;
    res.once('close', () => {
      if (!res.writableFinished && record) record.aborted = true;
      entry.done = true;
      controller.abort();
      controllers.delete(controller);
      const i = inFlight.indexOf(entry);
      if (i >= 0) inFlight.splice(i, 1);
    });

    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    const pathname = new URL(path, 'http://fake.invalid').pathname;
    const endpoint = classify(method, pathname);
    const rawBody = await readBody(req);
    record = {
      method,
      path,
      headers: req.headers,
      body: parseBody(rawBody),
      rawBody,
      receivedAt,
      endpoint,
      aborted: res.destroyed,
    };
    requests.push(record);
    for (const listener of [...recordListeners]) listener();
    for (const listener of [...arrivalListeners]) listener(entry);

    const ctx: ReplyContext = { res, signal: controller.signal, requestModel: modelOf(record.body) };
    switch (endpoint) {
      case 'chat': {
        const reply = queue.shift() ?? fallback;
        if (reply) await sendReply(reply, ctx);
        else await sendReply({ kind: 'error', status: 500, message: NO_REPLY_MESSAGE, headers: { 'x-fake-upstream': 'no-scripted-reply' } }, ctx);
        return;
      }
      case 'count_tokens': {
        const reply = countTokensQueue.shift();
        if (reply) await sendReply(reply, ctx);
        else await sendReply({ kind: 'json', body: { input_tokens: Math.max(1, Math.ceil(rawBody.length / 4)) } }, ctx);
        return;
      }
      case 'models':
        if (modelsReply) await sendReply(modelsReply, ctx);
        else await sendModels(pathname, ctx);
        return;
      case 'other':
        if (method === 'HEAD') {
          res.writeHead(200);
          res.end();
          return;
        }
        await sendReply({ kind: 'error', status: 404, message: notFoundMessage(method, pathname) }, ctx);
        return;
    }
  }

  function classify(method: string, pathname: string): Endpoint {
    const post = method === 'POST';
    const get = method === 'GET';
    if (format === 'anthropic') {
      if (post && pathname.endsWith('/v1/messages')) return 'chat';
      if (post && pathname.endsWith('/v1/messages/count_tokens')) return 'count_tokens';
    } else {
      if (post && pathname.endsWith('/chat/completions')) return 'chat';
      if (get && (pathname === '/api/tags' || pathname === '/api/version')) return 'models';
    }
    if (get && /\/models(\/[^/]+)?\/?$/.test(pathname)) return 'models';
    return 'other';
  }

  function notFoundMessage(method: string, pathname: string): string {
    if (format === 'openai') return `Unknown request URL: ${method} ${pathname}. Please check the URL for typos.`;
    if (format === 'cerebras') return `Unknown path: ${method} ${pathname}`;
    return 'Not Found';
  }

  async function sendModels(pathname: string, ctx: ReplyContext): Promise<void> {
    const created = 1_735_689_600;
    if (pathname === '/api/version') {
      await sendReply({ kind: 'json', body: { version: '0.12.6' } }, ctx);
      return;
    }
    if (pathname === '/api/tags') {
      const body = {
        models: models.map((id) => ({
          name: id,
          model: id,
          modified_at: '2025-11-01T10:00:00.000000000Z',
          size: 18_556_700_761,
          digest: randomHex(64),
          details: { parent_model: '', format: 'gguf', family: 'qwen3moe', families: ['qwen3moe'], parameter_size: '30.5B', quantization_level: 'Q4_K_M' },
        })),
      };
      await sendReply({ kind: 'json', body }, ctx);
      return;
    }
    const single = /\/models\/([^/]+)\/?$/.exec(pathname);
    const openaiModel = (id: string): Record<string, unknown> => ({
      id,
      object: 'model',
      created,
      owned_by: format === 'cerebras' ? 'Cerebras' : 'system',
    });
    const anthropicModel = (id: string): Record<string, unknown> => ({
      type: 'model',
      id,
      display_name: displayName(id),
      created_at: '2025-09-29T00:00:00Z',
    });
    const toModel = format === 'anthropic' ? anthropicModel : openaiModel;
    if (single?.[1] !== undefined) {
      const id = decodeURIComponent(single[1]);
      if (!models.includes(id)) {
        await sendReply({ kind: 'error', status: 404 }, { ...ctx, requestModel: id });
        return;
      }
      await sendReply({ kind: 'json', body: toModel(id) }, ctx);
      return;
    }
    const body =
      format === 'anthropic'
        ? { data: models.map(anthropicModel), has_more: false, first_id: models[0] ?? null, last_id: models[models.length - 1] ?? null }
        : { object: 'list', data: models.map(openaiModel) };
    await sendReply({ kind: 'json', body }, ctx);
  }

  interface ReplyContext {
    res: ServerResponse;
    signal: AbortSignal;
    requestModel: string | undefined;
  }

  function baseHeaders(reply: ReplyCommon, status: number): Record<string, string> {
    const headers: Record<string, string> = {};
    if (format === 'anthropic') headers['request-id'] = `req_${randomAlnum(24)}`;
    else headers['x-request-id'] = randomHex(32);
    if (format === 'cerebras') {
      const values: CerebrasRateLimit = { ...rateLimit, ...(status === 429 ? { remainingRequestsDay: 0 } : {}), ...reply.rateLimit };
      Object.assign(headers, cerebrasRateLimitHeaders(values));
    }
    for (const [name, value] of Object.entries(reply.headers ?? {})) headers[name.toLowerCase()] = value;
    return headers;
  }

  async function sendReply(reply: Reply, ctx: ReplyContext): Promise<void> {
    const { res } = ctx;
    if (!alive(res)) return;
    switch (reply.kind) {
      case 'json': {
        const status = reply.status ?? 200;
        const payload = JSON.stringify(reply.body);
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
          ...baseHeaders(reply, status),
        });
        res.end(payload);
        return;
      }
      case 'error': {
        const body = reply.body !== undefined ? reply.body : errorBody(format, reply, ctx.requestModel);
        const payload = JSON.stringify(body);
        res.writeHead(reply.status, {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(payload)),
          ...(format === 'anthropic' ? { 'x-should-retry': String(reply.status >= 500 || reply.status === 429) } : {}),
          ...baseHeaders(reply, reply.status),
        });
        res.end(payload);
        return;
      }
      case 'openai-stream': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...baseHeaders(reply, 200) });
        res.flushHeaders();
        let written = 0;
        for (const item of reply.chunks) {
          if (isDelay(item)) {
            await sleep(item.delayMs, ctx.signal);
            if (!alive(res)) return;
            continue;
          }
          if (reply.cutAfter !== undefined && written >= reply.cutAfter) break;
          await write(res, `data: ${JSON.stringify(item)}\n\n`);
          written++;
          if (!alive(res)) return;
        }
        if (reply.cutAfter !== undefined) {
          res.destroy();
          return;
        }
        if (reply.done !== false) await write(res, 'data: [DONE]\n\n');
        res.end();
        return;
      }
      case 'anthropic-stream': {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', ...baseHeaders(reply, 200) });
        res.flushHeaders();
        let written = 0;
        for (const item of reply.events) {
          if (isDelay(item)) {
            await sleep(item.delayMs, ctx.signal);
            if (!alive(res)) return;
            continue;
          }
          if (reply.cutAfter !== undefined && written >= reply.cutAfter) break;
          await write(res, `event: ${item.type}\ndata: ${JSON.stringify(item)}\n\n`);
          written++;
          if (!alive(res)) return;
        }
        if (reply.cutAfter !== undefined) {
          res.destroy();
          return;
        }
        res.end();
        return;
      }
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
          if (!alive(res)) return;
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

  function alive(res: ServerResponse): boolean {
    return !closed && !res.destroyed && !res.writableEnded;
  }

  function notifyClose(): void {
    for (const listener of [...closeListeners]) listener();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  const api: FakeUpstream = {
    format,
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get chatRequests() {
      return requests.filter((r) => r.endpoint === 'chat');
    },
    get connections() {
      return sockets.size;
    },
    get totalConnections() {
      return totalConnections;
    },
    get pending() {
      return queue.length;
    },
    enqueue(...replies: Reply[]) {
      queue.push(...replies);
    },
    enqueueCountTokens(...replies: Reply[]) {
      countTokensQueue.push(...replies);
    },
    setFallback(reply: Reply | undefined) {
      fallback = reply;
    },
    setModels(ids: string[]) {
      models = [...ids];
    },
    setModelsReply(reply: Reply | undefined) {
      modelsReply = reply;
    },
    setRateLimit(values: Partial<CerebrasRateLimit>) {
      rateLimit = { ...rateLimit, ...values };
    },
    waitForClientClose(timeoutMs = 10_000) {
      const current = [...inFlight].reverse().find((e) => !e.done);
      const target: Promise<void> = current
        ? current.socketClosed
        : new Promise<void>((resolve) => {
            const listener = (entry: InFlight): void => {
              arrivalListeners.delete(listener);
              void entry.socketClosed.then(resolve);
            };
            arrivalListeners.add(listener);
          });
      return withTimeout(target, timeoutMs, `fake upstream: the client did not close its socket within ${timeoutMs} ms`, closeListeners);
    },
    waitForRequests(count: number, options: { endpoint?: Endpoint; timeoutMs?: number } = {}) {
      const timeoutMs = options.timeoutMs ?? 10_000;
      const matching = (): RecordedRequest[] => requests.filter((r) => options.endpoint === undefined || r.endpoint === options.endpoint);
      const target = new Promise<RecordedRequest[]>((resolve) => {
        const check = (): void => {
          const found = matching();
          if (found.length >= count) {
            recordListeners.delete(check);
            resolve(found);
          }
        };
        recordListeners.add(check);
        check();
      });
      return withTimeout(
        target,
        timeoutMs,
        `fake upstream: expected ${count} ${options.endpoint ?? ''} request(s) within ${timeoutMs} ms, got ${matching().length}`,
        closeListeners,
      );
    },
    reset() {
      requests.length = 0;
      queue = [];
      countTokensQueue = [];
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const controller of controllers) controller.abort();
      notifyClose();
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  return api;
}

// ---------------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------------

interface ErrorFields {
  message: string;
  type: string;
  code: string | null;
  param: string | null;
}

function defaultErrorFields(format: UpstreamFormat, status: number, model: string | undefined): ErrorFields {
  if (format === 'cerebras') {
    const m = model ?? 'qwen-3-coder-480b';
    switch (status) {
      case 400: return { message: 'Invalid request: the request body could not be parsed.', type: 'invalid_request_error', param: 'body', code: 'wrong_api_format' };
      case 401: return { message: 'Wrong API Key', type: 'invalid_request_error', param: 'api_key', code: 'wrong_api_key' };
      case 402: return { message: 'Payment required: your plan does not include this model.', type: 'payment_required', param: 'plan', code: 'payment_required' };
      case 403: return { message: 'You do not have permission to access this resource.', type: 'permission_denied_error', param: '', code: 'permission_denied' };
      case 404: return { message: `Model ${m} does not exist or you do not have access to it.`, type: 'not_found_error', param: 'model', code: 'model_not_found' };
      case 422: return { message: 'Unprocessable entity: the request is invalid for this model.', type: 'invalid_request_error', param: 'messages', code: 'unprocessable_entity' };
      case 429: return { message: 'Requests per day limit exceeded - too many requests sent.', type: 'too_many_requests_error', param: 'quota', code: 'request_quota_exceeded' };
      case 503: return { message: "We're experiencing high traffic right now! Please try again soon.", type: 'too_many_requests_error', param: 'queue', code: 'queue_exceeded' };
      default: return { message: status >= 500 ? 'Internal server error' : `Request failed with status ${status}`, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: '', code: status >= 500 ? 'internal_server_error' : 'bad_request' };
    }
  }
  if (format === 'openai') {
    const m = model ?? 'qwen3-coder:30b';
    switch (status) {
      case 400: return { message: 'Invalid request: the request body is not valid.', type: 'invalid_request_error', param: null, code: null };
      case 401: return { message: 'Incorrect API key provided: sk-fake***. You can find your API key in your account settings.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' };
      case 403: return { message: 'You are not allowed to access this resource.', type: 'invalid_request_error', param: null, code: 'unsupported_country_region_territory' };
      case 404: return { message: `The model \`${m}\` does not exist or you do not have access to it.`, type: 'invalid_request_error', param: null, code: 'model_not_found' };
      case 429: return { message: `Rate limit reached for ${m} on requests per min (RPM): Limit 60, Used 60, Requested 1. Please try again in 1s.`, type: 'requests', param: null, code: 'rate_limit_exceeded' };
      case 503: return { message: 'The server is overloaded or not ready yet.', type: 'server_error', param: null, code: 'service_unavailable' };
      default: return { message: status >= 500 ? 'The server had an error while processing your request. Sorry about that!' : `Request failed with status ${status}`, type: status >= 500 ? 'server_error' : 'invalid_request_error', param: null, code: null };
    }
  }
  const m = model ?? 'claude-sonnet-4-5-20250929';
  const types: Record<number, [string, string]> = {
    400: ['invalid_request_error', 'Invalid request.'],
    401: ['authentication_error', 'invalid x-api-key'],
    403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
    404: ['not_found_error', `model: ${m}`],
    413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
    429: ['rate_limit_error', 'This request would exceed the rate limit for your organization of 50 requests per minute. Please reduce the prompt length or the maximum tokens requested, or try again later.'],
    500: ['api_error', 'Internal server error'],
    504: ['timeout_error', 'Request timed out'],
    529: ['overloaded_error', 'Overloaded'],
  };
  const [type, message] = types[status] ?? [status >= 500 ? 'api_error' : 'invalid_request_error', `Request failed with status ${status}`];
  return { message, type, code: null, param: null };
}

function errorBody(format: UpstreamFormat, reply: ErrorReply, model: string | undefined): unknown {
  const base = defaultErrorFields(format, reply.status, model);
  const fields: ErrorFields = {
    message: reply.message ?? base.message,
    type: reply.type ?? base.type,
    code: reply.code ?? base.code,
    param: base.param,
  };
  if (format === 'cerebras') return { message: fields.message, type: fields.type, param: fields.param ?? '', code: fields.code ?? '' };
  if (format === 'openai') return { error: { message: fields.message, type: fields.type, code: fields.code, param: null } };
  return { type: 'error', error: { type: fields.type, message: fields.message }, request_id: `req_${randomAlnum(24)}` };
}

/** The Cerebras `x-ratelimit-*` headers for these values. */
export function cerebrasRateLimitHeaders(values: CerebrasRateLimit): Record<string, string> {
  return {
    'x-ratelimit-limit-requests-day': String(values.limitRequestsDay),
    'x-ratelimit-remaining-requests-day': String(values.remainingRequestsDay),
    'x-ratelimit-limit-tokens-minute': String(values.limitTokensMinute),
    'x-ratelimit-remaining-tokens-minute': String(values.remainingTokensMinute),
    'x-ratelimit-reset-requests-day': floatString(values.resetRequestsDay),
    'x-ratelimit-reset-tokens-minute': floatString(values.resetTokensMinute),
  };
}

// ---------------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------------

function floatString(n: number): string {
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

function isDelay(item: unknown): item is Delay {
  return (
    typeof item === 'object' &&
    item !== null &&
    !Buffer.isBuffer(item) &&
    typeof (item as { delayMs?: unknown }).delayMs === 'number' &&
    Object.keys(item).length === 1
  );
}

function write(res: ServerResponse, chunk: string | Buffer): Promise<void> {
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
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

function withTimeout<T>(promise: Promise<T>, ms: number, message: string, closeListeners: Set<() => void>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onClose = (): void => finish(() => reject(new Error(`${message} (server closed)`)));
    const timer = setTimeout(() => finish(() => reject(new Error(message))), ms);
    const finish = (action: () => void): void => {
      clearTimeout(timer);
      closeListeners.delete(onClose);
      action();
    };
    closeListeners.add(onClose);
    promise.then(
      (value) => finish(() => resolve(value)),
      (err: unknown) => finish(() => reject(err instanceof Error ? err : new Error(String(err)))),
    );
  });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  } catch {
    // The client went away mid-body: record what arrived.
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function modelOf(body: unknown): string | undefined {
  if (typeof body === 'object' && body !== null && 'model' in body) {
    const model = (body as { model: unknown }).model;
    if (typeof model === 'string') return model;
  }
  return undefined;
}

function displayName(id: string): string {
  const words = id.replace(/-\d{8}$/, '').split('-');
  const out: string[] = [];
  for (const word of words) {
    const last = out[out.length - 1];
    if (/^\d+$/.test(word) && last !== undefined && /^\d+(\.\d+)?$/.test(last)) out[out.length - 1] = `${last}.${word}`;
    else out.push(word.charAt(0).toUpperCase() + word.slice(1));
  }
  return out.join(' ');
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomAlnum(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALNUM[byte % ALNUM.length];
  return out;
}

function randomHex(length: number): string {
  return randomBytes(Math.ceil(length / 2)).toString('hex').slice(0, length);
}

/** Split into `pieces` parts of nearly equal length, never inside a code point. */
function splitText(text: string, pieces: number): string[] {
  const chars = Array.from(text);
  if (chars.length === 0) return [];
  const n = Math.max(1, Math.min(Math.floor(pieces), chars.length));
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(chars.slice(Math.floor((i * chars.length) / n), Math.floor(((i + 1) * chars.length) / n)).join(''));
  }
  return out;
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

// ---------------------------------------------------------------------------------------------
// OpenAI builders
// ---------------------------------------------------------------------------------------------

export const newChatCompletionId = (): string => `chatcmpl-${randomAlnum(29)}`;
export const newToolCallId = (): string => `call_${randomAlnum(24)}`;
export const newMessageId = (): string => `msg_01${randomAlnum(22)}`;
export const newToolUseId = (): string => `toolu_01${randomAlnum(22)}`;

const DEFAULT_OPENAI_MODEL = 'qwen-3-coder-480b';
const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-4-5-20250929';

export interface OpenAIBuilderOptions {
  model?: string;
  id?: string;
  created?: number;
  /** `null` for servers that send none (vLLM, Ollama). */
  systemFingerprint?: string | null;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

interface Envelope {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string | null;
}

function envelope(opts: OpenAIBuilderOptions): Envelope {
  return {
    id: opts.id ?? newChatCompletionId(),
    created: opts.created ?? Math.floor(Date.now() / 1000),
    model: opts.model ?? DEFAULT_OPENAI_MODEL,
    system_fingerprint: opts.systemFingerprint === undefined ? `fp_${randomHex(10)}` : opts.systemFingerprint,
  };
}

function fullUsage(usage: { prompt_tokens: number; completion_tokens: number }): OpenAIUsage {
  return { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

function chunk(env: Envelope, delta: OpenAIChunkDelta, finishReason: OpenAIFinishReason | null = null): OpenAIChatChunk {
  return { ...env, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
}

export interface OpenAITextOptions extends OpenAIBuilderOptions {
  reasoning?: string;
  /** Where reasoning goes: `reasoning_content` (vLLM, DeepSeek; default) or `reasoning` (Cerebras, Ollama). */
  reasoningField?: 'reasoning_content' | 'reasoning';
  finishReason?: OpenAIFinishReason;
}

/** A whole non-streaming `chat.completion` answering `text`. */
export function openaiText(text: string, opts: OpenAITextOptions = {}): OpenAIChatCompletion {
  const env = envelope(opts);
  const message: OpenAIResponseMessage = { role: 'assistant', content: text };
  if (opts.reasoning !== undefined) message[opts.reasoningField ?? 'reasoning_content'] = opts.reasoning;
  return {
    ...env,
    object: 'chat.completion',
    choices: [{ index: 0, message, logprobs: null, finish_reason: opts.finishReason ?? 'stop' }],
    usage: fullUsage(opts.usage ?? { prompt_tokens: 12, completion_tokens: estimateTokens(text) }),
  };
}

export interface OpenAITextChunkOptions extends OpenAITextOptions {
  /** Number of content deltas (default 3, at most one per character). */
  pieces?: number;
  /** Append the usage-only chunk (`choices: []`) that include_usage produces (default true). */
  includeUsage?: boolean;
}

/**
 * The chunks of a streamed answer: a role chunk (`role: 'assistant', content: ''`), reasoning
 * deltas when asked, `pieces` content deltas, a chunk with `finish_reason`, then a usage-only chunk
 * with `choices: []` (as OpenAI and vLLM send with `stream_options.include_usage`).
 */
export function openaiTextChunks(text: string, opts: OpenAITextChunkOptions = {}): OpenAIChatChunk[] {
  const env = envelope(opts);
  const out: OpenAIChatChunk[] = [chunk(env, { role: 'assistant', content: '' })];
  if (opts.reasoning !== undefined) {
    const field = opts.reasoningField ?? 'reasoning_content';
    for (const piece of splitText(opts.reasoning, opts.pieces ?? 3)) out.push(chunk(env, { [field]: piece }));
  }
  for (const piece of splitText(text, opts.pieces ?? 3)) out.push(chunk(env, { content: piece }));
  out.push(chunk(env, {}, opts.finishReason ?? 'stop'));
  if (opts.includeUsage !== false) {
    const usage = opts.usage ?? { prompt_tokens: 12, completion_tokens: estimateTokens(text) + (opts.reasoning ? estimateTokens(opts.reasoning) : 0) };
    out.push({ ...env, object: 'chat.completion.chunk', choices: [], usage: fullUsage(usage) });
  }
  return out;
}

export interface OpenAIToolCallSpec {
  name: string;
  args: object;
  id?: string;
}

/** A whole `chat.completion` calling one tool (`finish_reason: 'tool_calls'`). */
export function openaiToolCall(name: string, args: object, opts: OpenAIBuilderOptions & { callId?: string; content?: string | null } = {}): OpenAIChatCompletion {
  const env = envelope(opts);
  const argsJson = JSON.stringify(args);
  return {
    ...env,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: opts.content ?? null,
          tool_calls: [{ id: opts.callId ?? newToolCallId(), type: 'function', function: { name, arguments: argsJson } }],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: fullUsage(opts.usage ?? { prompt_tokens: 120, completion_tokens: estimateTokens(argsJson) + 8 }),
  };
}

/**
 * The chunks of streamed tool calls: for each call (keyed by `index`) a first fragment with `id`,
 * `type` and `function.name` (and `arguments: ''`), then the arguments JSON split over `fragments`
 * deltas (default 3); then `finish_reason: 'tool_calls'` and the usage-only chunk.
 * `content` streams some text before the calls.
 */
export function openaiToolCallChunks(
  calls: OpenAIToolCallSpec[],
  opts: OpenAIBuilderOptions & { fragments?: number; content?: string; includeUsage?: boolean } = {},
): OpenAIChatChunk[] {
  const env = envelope(opts);
  const out: OpenAIChatChunk[] = [];
  if (opts.content !== undefined) {
    out.push(chunk(env, { role: 'assistant', content: '' }));
    for (const piece of splitText(opts.content, 2)) out.push(chunk(env, { content: piece }));
  }
  let argsChars = 0;
  calls.forEach((call, index) => {
    const argsJson = JSON.stringify(call.args);
    argsChars += argsJson.length;
    const first: OpenAIToolCallDelta = { index, id: call.id ?? newToolCallId(), type: 'function', function: { name: call.name, arguments: '' } };
    const delta: OpenAIChunkDelta = out.length === 0 ? { role: 'assistant', content: null, tool_calls: [first] } : { tool_calls: [first] };
    out.push(chunk(env, delta));
    for (const piece of splitText(argsJson, opts.fragments ?? 3)) {
      out.push(chunk(env, { tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  out.push(chunk(env, {}, 'tool_calls'));
  if (opts.includeUsage !== false) {
    out.push({ ...env, object: 'chat.completion.chunk', choices: [], usage: fullUsage(opts.usage ?? { prompt_tokens: 120, completion_tokens: Math.ceil(argsChars / 4) + 8 }) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Anthropic builders
// ---------------------------------------------------------------------------------------------

export interface AnthropicBuilderOptions {
  model?: string;
  id?: string;
  usage?: { input_tokens: number; output_tokens: number };
}

function anthropicMessage(content: ResponseContentBlock[], stopReason: StopReason | null, usage: Usage, opts: AnthropicBuilderOptions): Message {
  return {
    id: opts.id ?? newMessageId(),
    type: 'message',
    role: 'assistant',
    model: opts.model ?? DEFAULT_ANTHROPIC_MODEL,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  };
}

function anthropicUsage(input: number, output: number): Usage {
  return { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output };
}

/** A whole Anthropic Message answering `text` (`stop_reason: 'end_turn'`). */
export function anthropicText(text: string, opts: AnthropicBuilderOptions = {}): Message {
  const usage = opts.usage ?? { input_tokens: 12, output_tokens: estimateTokens(text) };
  return anthropicMessage([{ type: 'text', text }], 'end_turn', anthropicUsage(usage.input_tokens, usage.output_tokens), opts);
}

/** A whole Anthropic Message calling one tool (`stop_reason: 'tool_use'`). */
export function anthropicToolUse(name: string, input: object, opts: AnthropicBuilderOptions & { toolUseId?: string } = {}): Message {
  const usage = opts.usage ?? { input_tokens: 120, output_tokens: estimateTokens(JSON.stringify(input)) + 8 };
  return anthropicMessage(
    [{ type: 'tool_use', id: opts.toolUseId ?? newToolUseId(), name, input }],
    'tool_use',
    anthropicUsage(usage.input_tokens, usage.output_tokens),
    opts,
  );
}

function messageStart(opts: AnthropicBuilderOptions, inputTokens: number): StreamEvent {
  return { type: 'message_start', message: anthropicMessage([], null, anthropicUsage(inputTokens, 1), opts) };
}

/**
 * The event sequence the real API sends for a text answer: message_start, content_block_start,
 * ping, content_block_delta (text_delta) x pieces, content_block_stop, message_delta, message_stop.
 */
export function anthropicTextEvents(text: string, opts: AnthropicBuilderOptions & { pieces?: number } = {}): StreamEvent[] {
  const usage = opts.usage ?? { input_tokens: 12, output_tokens: estimateTokens(text) };
  const start: ContentBlockStart = { type: 'text', text: '' };
  return [
    messageStart(opts, usage.input_tokens),
    { type: 'content_block_start', index: 0, content_block: start },
    { type: 'ping' },
    ...splitText(text, opts.pieces ?? 2).map((piece): StreamEvent => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } })),
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } },
    { type: 'message_stop' },
  ];
}

/**
 * The event sequence for a tool call: optional text block, then a tool_use block whose input
 * arrives as input_json_delta fragments (the first one empty, as the real API does).
 */
export function anthropicToolUseEvents(
  name: string,
  input: object,
  opts: AnthropicBuilderOptions & { toolUseId?: string; text?: string; fragments?: number } = {},
): StreamEvent[] {
  const inputJson = JSON.stringify(input);
  const usage = opts.usage ?? { input_tokens: 120, output_tokens: estimateTokens(inputJson) + 8 };
  const events: StreamEvent[] = [messageStart(opts, usage.input_tokens)];
  let index = 0;
  if (opts.text !== undefined) {
    events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    if (index === 0) events.push({ type: 'ping' });
    for (const piece of splitText(opts.text, 2)) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    events.push({ type: 'content_block_stop', index });
    index++;
  }
  events.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: opts.toolUseId ?? newToolUseId(), name, input: {} } });
  if (index === 0) events.push({ type: 'ping' });
  events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } });
  for (const piece of splitText(inputJson, opts.fragments ?? 3)) {
    events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
  }
  events.push(
    { type: 'content_block_stop', index },
    { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } },
    { type: 'message_stop' },
  );
  return events;
}
