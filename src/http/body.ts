import type { IncomingMessage } from 'node:http';
import type { Context as KoaContext } from 'koa';
import { ProxyError, invalidRequest } from '../errors.js';
import { oneByteText, scanJson, trimmed, type JsonScan } from '../json/raw-json.js';
import { adopt, instance, keptAt, newBody, recognise, sighted, type RawValue } from '../json/raw-values.js';

/**
 * Deepest nesting of objects and arrays a request body may have. Real tool schemas and messages
 * stay under 20; the limit keeps every recursive walk of a request (token estimate, cache key,
 * translation) far from the stack's end.
 */
export const MAX_JSON_DEPTH = 128;

/** Members the same on every request of a session, whose derived forms are kept (see raw-values.ts). */
const RECOGNISED: ReadonlySet<string> = new Set(['tools', 'system']);
/** Arrays whose elements are recognised one by one: a session's earlier turns come again on every request. */
const RECOGNISED_ELEMENTS: ReadonlySet<string> = new Set(['messages']);

/** An answer sent before the body was read waits this long, at most, for the rest of it. */
export const DISCARD_MAX_MS = 5_000;
/** ...and reads (and throws away) at most this much of it before closing the connection. */
export const DISCARD_MAX_BYTES = 64 * 1024 * 1024;

const tooLarge = (limit: number) =>
  new ProxyError(`Request body is larger than the proxy's limit of ${limit} bytes (server.bodyLimit).`, {
    code: 'request_too_large',
    type: 'request_too_large',
  });

/** Read and parse a JSON request body once, refusing more than `limit` bytes or nesting deeper than MAX_JSON_DEPTH. */
export async function readJsonBody(req: IncomingMessage, limit: number, timing?: { receivedAt: number }): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  // The error mapper reads and discards the rest (sendBeforeBody).
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const raw = await readBounded(req, limit);
  if (timing) timing.receivedAt = performance.now();
  // Values seen before (a session's tools, system prompt and earlier turns) are neither scanned
  // nor parsed again: the scan jumps over their bytes, which are written as `null` in the text
  // parsed, and their kept value is put in place.
  const found = new Map<number, RawValue>();
  const scan = scanJson(raw, MAX_JSON_DEPTH, RECOGNISED, RECOGNISED_ELEMENTS, (json, start) => {
    const known = keptAt(json, start);
    if (!known) return undefined;
    found.set(start, known);
    return { end: start + known.bytes.length, depth: known.depth };
  });
  if (scan.tooDeep) {
    throw invalidRequest(`Request body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep.`, 'too_deep');
  }
  const places = placesOf(raw, scan, found);
  const skipped = places.filter((place) => place.known.value !== undefined);
  const text = skipped.length === 0 ? oneByteText(raw) : textWithout(raw, skipped);
  // A regex, not trim(): trimming copies the whole ~80 KB text.
  if (!/\S/.test(text)) throw invalidRequest('Request body is empty; expected a JSON object.');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Named as for the whole text (its positions), which is what the client sent.
    const reported = skipped.length === 0 ? (error as Error) : (parseError(oneByteText(raw)) ?? (error as Error));
    throw invalidRequest(`Request body is not valid JSON: ${reported.message}`, 'invalid_json');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidRequest('Request body must be a JSON object.', 'invalid_json');
  }
  const body = parsed as Record<string, unknown>;
  for (const place of places) {
    const container = place.array === undefined ? body : body[place.array];
    const slot = place.array === undefined ? place.name : place.index;
    const here = (container as Record<string | number, unknown>)[slot];
    const kept = place.known.value !== undefined && here === null ? instance(place.known) : undefined;
    if (kept) (container as Record<string | number, unknown>)[slot] = kept;
    else adopt(place.known, here);
  }
  return body;
}

/** A value in the body recognised by its bytes: a top-level member, or an element of a top-level array. */
interface Place {
  start: number;
  end: number;
  known: RawValue;
  /** For a member, its name; for an element, the array's. */
  name: string;
  /** Set for an element: the array's name and the element's index. */
  array?: string;
  index: number;
}

/**
 * The objects and arrays recognised by their bytes (the only values kept by them), in the order
 * they lie in the body; `found` holds those the scan jumped over, by where they begin.
 */
function placesOf(raw: Buffer, scan: JsonScan, found: ReadonlyMap<number, RawValue>): Place[] {
  const places: Place[] = [];
  const budget = newBody();
  const add = (from: number, to: number, name: string, array?: string, index = 0) => {
    const [start, end] = trimmed(raw, from, to);
    if (raw[start] !== 0x7b && raw[start] !== 0x5b) return;
    const seen = found.get(start);
    let known: RawValue;
    if (seen && start + seen.bytes.length === end) {
      sighted(seen);
      known = seen;
    } else known = recognise(raw.subarray(start, end), budget);
    places.push({ start, end, name, index, known, ...(array === undefined ? {} : { array }) });
  };
  for (const [name, [start, end]] of scan.members) add(start, end, name);
  for (const [name, items] of scan.elements) items.forEach(([start, end], index) => add(start, end, name, name, index));
  return places.sort((a, b) => a.start - b.start);
}

/** The body's one-byte text with the given member values (in order) written as `null`. */
function textWithout(raw: Buffer, spans: ReadonlyArray<{ start: number; end: number }>): string {
  let text = '';
  let from = 0;
  for (const { start, end } of spans) {
    text += oneByteText(raw.subarray(from, start)) + 'null';
    from = end;
  }
  return text + oneByteText(raw.subarray(from));
}

/** The error JSON.parse gives for `text`, if any. */
function parseError(text: string): Error | undefined {
  try {
    JSON.parse(text);
    return undefined;
  } catch (error) {
    return error as Error;
  }
}

/**
 * The body as one buffer. Over the limit it rejects and leaves the request flowing (never
 * destroyed), so the rest can still be read off the socket after the 413 is sent.
 */
function readBounded(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        stop();
        reject(tooLarge(limit));
      }
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (error: Error) => {
      stop();
      reject(error);
    };
    const onClose = () => {
      stop();
      reject(new ProxyError('The client closed the connection before sending the whole body.', { code: 'client_closed', type: 'invalid_request_error' }));
    };
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onError);
    req.once('close', onClose);
  });
}

/**
 * Sends the error the Koa context holds while the request body is still arriving (413, 401,
 * 404): the answer goes out at once with `connection: close`, then the rest of the body is read
 * and thrown away — at most DISCARD_MAX_BYTES, for at most DISCARD_MAX_MS — and only then does
 * the connection close. Closing at once (what Node does after `res.end()` on `Connection:
 * close`, or when the request stream is destroyed) resets a connection the client is still
 * writing to, and a client that writes its whole body before reading loses the answer.
 */
export async function sendBeforeBody(koa: KoaContext): Promise<void> {
  const { req, res } = koa;
  const socket = req.socket;
  const payload = Buffer.from(JSON.stringify(koa.body));
  koa.respond = false;
  res.writeHead(koa.status, { connection: 'close', 'content-length': payload.length });
  res.write(payload);
  const drained = await discardBody(req);
  res.end();
  if (!drained) socket.destroy();
}

/** Reads and drops the rest of a request body; false when it hit a bound first. */
function discardBody(req: IncomingMessage): Promise<boolean> {
  if (req.complete) return Promise.resolve(true);
  if (req.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let bytes = 0;
    const finish = (drained: boolean) => {
      clearTimeout(timer);
      req.off('data', count);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(drained);
    };
    const count = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > DISCARD_MAX_BYTES) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(req.complete);
    const timer = setTimeout(() => finish(false), DISCARD_MAX_MS);
    timer.unref();
    req.on('data', count);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.once('error', onClose);
    req.resume();
  });
}
