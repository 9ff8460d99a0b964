import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { ProxyError } from '../errors.js';
import { transportError, type FailureContext } from './transport-error.js';
import { jsonOf } from '../json/encoded.js';
import { derivedIfKnown } from '../json/raw-values.js';

export { redactUrl } from '../secrets/redact-url.js';

export interface UpstreamClientOptions {
  backend: string;
  /** May carry a path prefix and query (`https://host/v2/abc/openai/v1?api-version=1`). */
  baseUrl: string;
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** Sent with every request; per-request headers win. */
  headers?: Record<string, string>;
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Appended to the base URL's path; may carry its own query. */
  path: string;
  /** `path` is from the origin, not under the base URL's path (vLLM's `/tokenize` beside its `/v1`). */
  fromOrigin?: boolean;
  body?: string;
  /**
   * A JSON body, serialised here a top-level array element at a time (a message, a tool): a
   * Claude Code request as one string is ~160 KB (two-byte), which V8 frees only in a full GC.
   * Request bodies pass `encodeJson(value)`, so no caller's frame keeps the object while the
   * upstream has not answered.
   */
  json?: unknown;
  headers?: Record<string, string>;
  /** The caller's signal: aborting it aborts the upstream request (`client_closed`). */
  signal?: AbortSignal;
  /**
   * Deadline for the whole exchange, body included (`upstream_timeout`). When set it replaces
   * firstByteTimeoutMs for this request; connect and idle timeouts still apply.
   */
  timeoutMs?: number;
}

export interface UpstreamResponse {
  status: number;
  headers: Record<string, string>;
  /** Streamed as it arrives; transport failures surface here as ProxyError. */
  body: AsyncIterable<Uint8Array>;
  text(): Promise<string>;
  json<T>(): Promise<T>;
}


/** One keep-alive connection pool per backend. */
export class UpstreamClient {
  readonly backend: string;
  /** The base URL without credentials or query, safe for logs and messages. */
  readonly safeBaseUrl: string;
  private readonly pool: Pool;
  private readonly origin: string;
  private readonly prefix: string;
  private readonly baseQuery: string;
  private readonly defaultHeaders: Record<string, string>;
  private readonly settings: FailureContext['settings'];

  constructor(opts: UpstreamClientOptions) {
    this.backend = opts.backend;
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch (cause) {
      throw new ProxyError(`the base URL of backend "${opts.backend}" is not a valid URL`, {
        code: 'invalid_base_url',
        type: 'api_error',
        backend: opts.backend,
        recommendations: ['set the backend URL to an absolute http(s) URL such as http://127.0.0.1:11434/v1'],
        cause,
      });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ProxyError(`the base URL of backend "${opts.backend}" must use http or https, not ${url.protocol}`, {
        code: 'invalid_base_url',
        type: 'api_error',
        backend: opts.backend,
      });
    }
    this.origin = url.origin;
    this.prefix = url.pathname.replace(/\/+$/, '');
    this.baseQuery = url.search.slice(1);
    this.safeBaseUrl = this.origin + this.prefix;
    this.defaultHeaders = lowerKeys(opts.headers ?? {});
    if ((url.username || url.password) && this.defaultHeaders.authorization === undefined) {
      const userinfo = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      this.defaultHeaders.authorization = `Basic ${Buffer.from(userinfo).toString('base64')}`;
    }
    this.settings = {
      connectTimeoutMs: opts.connectTimeoutMs,
      firstByteTimeoutMs: opts.firstByteTimeoutMs,
      idleTimeoutMs: opts.idleTimeoutMs,
    };
    this.pool = new Pool(this.origin, {
      connect: { timeout: opts.connectTimeoutMs },
      headersTimeout: opts.firstByteTimeoutMs,
      bodyTimeout: opts.idleTimeoutMs,
    });
  }

  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    // The closures below outlive the call (a stream runs for minutes): they capture the signal, never `req` and its body.
    const { signal } = req;
    const [pathOnly, pathQuery = ''] = splitOnce(req.path, '?');
    const fullPath = joinPath(req.fromOrigin ? '' : this.prefix, pathOnly);
    const query = [this.baseQuery, pathQuery].filter(Boolean).join('&');
    const ctx: FailureContext = {
      backend: this.backend,
      origin: this.origin,
      target: this.origin + fullPath,
      phase: 'request',
      reason: undefined,
      timeoutMs: req.timeoutMs,
      settings: this.settings,
    };

    // A controller of its own only for a deadline; otherwise undici takes the caller's signal as is
    // (one AbortController and listener less a request), and a caller's abort is read off it.
    const controller = req.timeoutMs === undefined ? undefined : new AbortController();
    const onCallerAbort = (): void => {
      ctx.reason ??= 'caller';
      controller?.abort(signal?.reason);
    };
    const timer =
      controller === undefined
        ? undefined
        : setTimeout(() => {
            ctx.reason ??= 'deadline';
            controller.abort(new Error('deadline'));
          }, req.timeoutMs);
    const cleanup = (): void => {
      if (timer) clearTimeout(timer);
      if (controller) signal?.removeEventListener('abort', onCallerAbort);
    };
    if (controller) {
      if (signal?.aborted) onCallerAbort();
      else signal?.addEventListener('abort', onCallerAbort, { once: true });
    }
    const failed = (error: unknown): ProxyError => {
      if (signal?.aborted) ctx.reason ??= 'caller';
      return transportError(error, ctx);
    };

    const headers = { ...this.defaultHeaders, ...lowerKeys(req.headers ?? {}) };
    let payload: Readable | null = null;
    if (req.body !== undefined || req.json !== undefined) {
      headers['content-type'] ??= 'application/json';
      const pieces = req.json instanceof EncodedJson ? req.json.take() : req.json === undefined ? [Buffer.from(req.body ?? '')] : jsonPieces(req.json);
      headers['content-length'] = String(pieces.reduce((sum, piece) => sum + piece.length, 0));
      payload = sendOnce(pieces);
    }

    let data: Awaited<ReturnType<Pool['request']>>;
    try {
      data = await this.pool.request({
        method: req.method,
        path: query ? `${fullPath}?${query}` : fullPath,
        headers,
        body: payload,
        signal: controller?.signal ?? signal,
        // With a deadline, a slow first byte is expected (non-streaming answers): the deadline rules.
        ...(req.timeoutMs === undefined ? {} : { headersTimeout: 0 }),
      });
    } catch (error) {
      cleanup();
      throw failed(error);
    }

    const body = upstreamBody(data.body, ctx, signal, cleanup, failed);
    const text = async (): Promise<string> => {
      const decoder = new TextDecoder();
      let out = '';
      for await (const chunk of body) out += decoder.decode(chunk, { stream: true });
      return out + decoder.decode();
    };

    return {
      status: data.statusCode,
      headers: flattenHeaders(data.headers),
      body,
      text,
      async json<T>(): Promise<T> {
        const content = await text();
        try {
          return JSON.parse(content) as T;
        } catch (cause) {
          throw new ProxyError(
            `${ctx.target} answered HTTP ${data.statusCode} with a body that is not JSON: ${JSON.stringify(content.slice(0, 200))}`,
            { code: 'upstream_malformed', type: 'api_error', status: 502, backend: ctx.backend, cause },
          );
        }
      },
    };
  }

  /** Waits briefly for open requests, then destroys what is left (shutdown already drained). */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), 1_000);
    });
    const result = await Promise.race([this.pool.close().then(() => 'closed' as const), late]);
    clearTimeout(timer);
    if (result === 'late') await this.pool.destroy();
  }
}

/**
 * The upstream's body as it arrives, read straight off undici's stream: an async generator around
 * it would cost its promises on every chunk, and a stream sends one a token.
 */
function upstreamBody(
  raw: Dispatcher.ResponseData['body'],
  ctx: FailureContext,
  signal: AbortSignal | undefined,
  cleanup: () => void,
  failed: (error: unknown) => ProxyError,
): AsyncIterableIterator<Uint8Array> {
  let chunks: AsyncIterator<Uint8Array> | undefined;
  let finished = false;
  let closed = false;
  let read = 0;
  const close = (): void => {
    if (closed) return;
    closed = true;
    cleanup();
    if (!finished && !raw.destroyed) {
      // A consumer that stops early (an OpenAI stream's [DONE] arrives before its end) reads the
      // rest, so the connection serves the next request; a gone caller, or a long remainder (a
      // generation still running), ends it, which aborts the upstream.
      if (signal?.aborted) raw.destroy();
      else raw.dump({ limit: read + TRAILER_BYTES }).catch(() => undefined);
    }
  };
  const body: AsyncIterableIterator<Uint8Array> = {
    [Symbol.asyncIterator]: () => body,
    next: () => {
      if (closed) return Promise.resolve({ done: true, value: undefined });
      ctx.phase = 'body';
      // Not destroyed on an early return: a plain `for await` would, with an AbortError (and its stack) each time.
      chunks ??= raw.iterator({ destroyOnReturn: false }) as AsyncIterator<Uint8Array>;
      return chunks.next().then(
        (result) => {
          if (result.done) {
            finished = true;
            close();
          } else read += result.value.length;
          return result;
        },
        (error: unknown) => {
          close();
          throw failed(error);
        },
      );
    },
    return: async () => {
      await chunks?.return?.();
      close();
      return { done: true, value: undefined };
    },
  };
  return body;
}

/**
 * The request body as a stream that lets go of it once undici took it. undici keeps a
 * string or Buffer body until the response ends: a ~100 KB Claude Code request for as long as
 * its answer streams, on every open stream.
 */
function sendOnce(pieces: Buffer[]): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (sent) {
        this.push(null);
        return;
      }
      sent = true;
      // One chunk: undici writes each chunk with a socket write of its own (a syscall each).
      const body = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
      pieces.length = 0;
      this.push(body);
    },
  });
}

/** The JSON of a value recognised by its bytes (a session's earlier turn, sent as is to an Anthropic-format server), written once. */
const keptJson = (item: unknown): Buffer | undefined =>
  typeof item === 'object' && item !== null ? derivedIfKnown(item, 'json', (value) => Buffer.from(JSON.stringify(value))) : undefined;

/**
 * A JSON body already serialised (see jsonPieces), sent once. An async function keeps every
 * named local and parameter until it returns, however long it then waits: a request object
 * passed as `json` stays alive until the upstream answers (seconds for a model that reads a long
 * prompt first), long enough for V8 to move it to the old generation, which it collects rarely.
 * Encoded in the expression that builds the request, the object is garbage at once.
 */
export class EncodedJson {
  #pieces: Buffer[] | undefined;
  constructor(value: unknown) {
    this.#pieces = jsonPieces(value);
  }
  /** The pieces, handed over: the request stream lets go of each once it is written. */
  take(): Buffer[] {
    const pieces = this.#pieces;
    if (!pieces) throw new Error('an EncodedJson body is sent once');
    this.#pieces = undefined;
    return pieces;
  }
}

/** What an early-stopping consumer may leave unread and still keep the connection. */
const TRAILER_BYTES = 16 * 1024;

export const encodeJson = (value: unknown): EncodedJson => new EncodedJson(value);
const PIECE_CHARS = 16 * 1024;

/** `JSON.stringify(value)` as buffers: the elements of top-level arrays one by one, small members merged. */
export function jsonPieces(value: unknown): Buffer[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || 'toJSON' in value) {
    return [Buffer.from(JSON.stringify(value) ?? 'null')];
  }
  const pieces: Buffer[] = [];
  let pending = '{';
  const add = (text: string) => {
    if (pending.length + text.length < PIECE_CHARS) {
      pending += text;
      return;
    }
    if (pending) pieces.push(Buffer.from(pending));
    pending = '';
    if (text.length < PIECE_CHARS) pending = text;
    else pieces.push(Buffer.from(text));
  };
  /** JSON already written (see encoded.ts and raw-values.ts), sent as it is. */
  const addBytes = (bytes: Buffer) => {
    if (pending) pieces.push(Buffer.from(pending));
    pending = '';
    pieces.push(bytes);
  };
  let first = true;
  for (const [key, member] of Object.entries(value)) {
    const ready = jsonOf(member);
    const json = ready || Array.isArray(member) ? undefined : (JSON.stringify(member) as string | undefined);
    if (json === undefined && !ready && !Array.isArray(member)) continue; // undefined, functions and symbols are left out
    add(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (ready) {
      addBytes(ready);
      continue;
    }
    if (json !== undefined) {
      add(json);
      continue;
    }
    add('[');
    (member as unknown[]).forEach((item, i) => {
      const json = jsonOf(item) ?? keptJson(item);
      if (!json) add((i > 0 ? ',' : '') + (JSON.stringify(item) ?? 'null'));
      else {
        if (i > 0) add(',');
        addBytes(json);
      }
    });
    add(']');
  }
  pieces.push(Buffer.from(`${pending}}`));
  return coalesced(pieces);
}

/** Runs of small pieces (a long session's turns, each written once) joined to about PIECE_CHARS bytes: one socket write each, not one a turn. */
function coalesced(pieces: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  let run: Buffer[] = [];
  let size = 0;
  const flush = () => {
    if (run.length > 0) out.push(run.length === 1 ? run[0]! : Buffer.concat(run, size));
    run = [];
    size = 0;
  };
  for (const piece of pieces) {
    if (piece.length >= PIECE_CHARS) {
      flush();
      out.push(piece);
      continue;
    }
    run.push(piece);
    size += piece.length;
    if (size >= PIECE_CHARS) flush();
  }
  flush();
  return out;
}

function joinPath(prefix: string, path: string): string {
  const tail = path.replace(/^\/+/, '');
  return tail ? `${prefix}/${tail}` : prefix || '/';
}

function splitOnce(text: string, separator: string): [string, string?] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

function lowerKeys(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) out[key.toLowerCase()] = value;
  return out;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

