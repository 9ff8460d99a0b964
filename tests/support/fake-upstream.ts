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
import { defaultCerebrasRateLimit, type CerebrasRateLimit } from './cerebras-rate-limit.js';
import { sendModels } from './fake-upstream-models.js';
import { sendReply, type ReplyContext, type ReplyServer } from './fake-upstream-replies.js';
import type { Reply, UpstreamFormat } from './fake-upstream-reply-types.js';
import { modelOf, parseBody, readBody } from './request-body.js';

// The builders and reply types live in their own modules; tests import them all from here.
export { anthropicText, anthropicTextEvents, anthropicToolUse, anthropicToolUseEvents, type AnthropicBuilderOptions } from './anthropic-builders.js';
export { cerebrasRateLimitHeaders, defaultCerebrasRateLimit, type CerebrasRateLimit } from './cerebras-rate-limit.js';
export type { AnthropicStreamReply, Delay, DelayReply, ErrorReply, HangReply, JsonReply } from './fake-upstream-reply-types.js';
export type { OpenAIStreamReply, RawReply, Reply, UpstreamFormat } from './fake-upstream-reply-types.js';
export { openaiText, openaiTextChunks, openaiToolCall, openaiToolCallChunks } from './openai-builders.js';
export type { ChatChunkLike, OpenAIBuilderOptions, OpenAIChatChunk, OpenAIChatCompletion, OpenAIChunkChoice } from './openai-builders.js';
export type { OpenAIChunkDelta, OpenAIFinishReason, OpenAIResponseMessage, OpenAITextChunkOptions } from './openai-builders.js';
export type { OpenAITextOptions, OpenAIToolCall, OpenAIToolCallDelta, OpenAIToolCallSpec, OpenAIUsage } from './openai-builders.js';
export { newChatCompletionId, newMessageId, newToolCallId, newToolUseId } from './random-ids.js';

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

export async function startFakeUpstream(opts: { format?: UpstreamFormat; /** Listen on this port (default: a free one). */ port?: number } = {}): Promise<FakeUpstream> {
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

  const replyServer: ReplyServer = {
    format,
    get rateLimit() {
      return rateLimit;
    },
    get closed() {
      return closed;
    },
  };

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

    const ctx: ReplyContext = { server: replyServer, res, signal: controller.signal, requestModel: modelOf(record.body) };
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
        else await sendModels(pathname, models, ctx);
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

  function notifyClose(): void {
    for (const listener of [...closeListeners]) listener();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
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
