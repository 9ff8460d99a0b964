import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, request } from 'undici';
import type { WebFetchErrorCode } from '../../src/plugin.js';
import type { AddressGuard } from './address-guard.js';
import { domainRefusal, type DomainRules } from './domains.js';
import { htmlToText } from './html-text.js';

/** One address a host name resolves to. */
export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Every address of a host name (the default is the system resolver, `dns.lookup` with `all: true`). */
export type HostResolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface FetchLimits {
  /** The whole fetch, redirects and body included. */
  timeoutMs: number;
  /** Bytes of body read; the rest is cut. */
  maxBytes: number;
  maxRedirects: number;
  userAgent: string;
}

export type FetchOutcome =
  | { ok: true; url: string; contentType: string; title: string | null; text: string; truncated: boolean }
  | { ok: false; code: WebFetchErrorCode; reason: string };

/** Anthropic's web fetch refuses longer URLs with `url_too_long`. */
const MAX_URL_LENGTH = 250;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const TEXT_TYPES = /^(?:text\/|application\/(?:json|xml|xhtml\+xml|javascript|ecmascript|x-javascript|ld\+json|rss\+xml|atom\+xml|x-ndjson|yaml|x-yaml|toml)$|application\/[a-z0-9.+-]+\+(?:json|xml)$)/;

export const systemResolver: HostResolver = async (hostname) => {
  const found = await dnsLookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

/**
 * GET `rawUrl` as the web_fetch tool does: only http and https; the host resolved here and every
 * address it has checked by the guard before a connection is made, and the connection then made
 * to those checked addresses only (the socket's own lookup answers with them: a DNS answer that
 * changes between check and connect is never used); redirects followed one hop at a time, each
 * hop checked again; the body read up to `maxBytes`, the whole within `timeoutMs`. A failure is
 * an outcome with the API's error code, never a throw (except the client going away).
 */
export async function fetchPage(rawUrl: string, rules: DomainRules, guard: AddressGuard, resolve: HostResolver, limits: FetchLimits, signal: AbortSignal): Promise<FetchOutcome> {
  const timeout = AbortSignal.timeout(limits.timeoutMs);
  const deadline = AbortSignal.any([signal, timeout]);
  let url = parseUrl(rawUrl);
  if (!url) return fail('invalid_tool_input', `"${rawUrl.slice(0, 100)}" is not an absolute http or https URL`);
  if (rawUrl.length > MAX_URL_LENGTH) return fail('url_too_long', `the URL is longer than ${MAX_URL_LENGTH} characters`);
  for (let hop = 0; ; hop++) {
    const refused = domainRefusal(url, rules);
    if (refused) return fail('url_not_allowed', refused);
    try {
      const addresses = await checkedAddresses(url, guard, resolve, deadline);
      if (!Array.isArray(addresses)) return addresses;
      const answer = await get(url, addresses, limits, deadline);
      if (answer.kind === 'page') return answer.outcome;
      if (hop >= limits.maxRedirects) return fail('url_not_accessible', `more than ${limits.maxRedirects} redirects`);
      const next = parseUrl(answer.location, url);
      if (!next) return fail('url_not_accessible', `redirected to "${answer.location.slice(0, 100)}", which is not an http or https URL`);
      url = next;
    } catch (error) {
      if (signal.aborted) throw error;
      if (timeout.aborted) return fail('url_not_accessible', `no whole answer from ${url.host} within ${limits.timeoutMs} ms`);
      return fail('url_not_accessible', `${url.host}: ${describe(error)}`);
    }
  }
}

/** The host's addresses, every one allowed by the guard; or the refusal. */
async function checkedAddresses(url: URL, guard: AddressGuard, resolve: HostResolver, signal: AbortSignal): Promise<ResolvedAddress[] | FetchOutcome> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const literal = isIP(host);
  let addresses: ResolvedAddress[];
  if (literal !== 0) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await abortable(resolve(host), signal);
    } catch (error) {
      if (signal.aborted) throw error;
      return fail('url_not_accessible', `${host} does not resolve (${describe(error)})`);
    }
  }
  if (addresses.length === 0) return fail('url_not_accessible', `${host} has no address`);
  for (const { address } of addresses) {
    const refusal = guard.refusal(address);
    if (refusal) return fail('url_not_allowed', literal === 0 ? `${host} resolves to ${address}, and ${refusal}` : refusal);
  }
  return addresses;
}

type Answer = { kind: 'page'; outcome: FetchOutcome } | { kind: 'redirect'; location: string };

async function get(url: URL, addresses: ResolvedAddress[], limits: FetchLimits, signal: AbortSignal): Promise<Answer> {
  // One agent per hop, its sockets pinned to the checked addresses, destroyed with the hop.
  const agent = new Agent({ connect: { lookup: pinned(addresses) }, pipelining: 0 });
  try {
    const response = await request(url, {
      method: 'GET',
      dispatcher: agent,
      signal,
      headers: { 'user-agent': limits.userAgent, accept: 'text/html, text/plain;q=0.9, application/json;q=0.8, */*;q=0.1', 'accept-encoding': 'identity' },
    });
    const location = header(response.headers.location);
    if (REDIRECTS.has(response.statusCode) && location) {
      discard(response.body);
      return { kind: 'redirect', location };
    }
    if (response.statusCode === 429) {
      discard(response.body);
      return page(fail('too_many_requests', `${url.host} answered HTTP 429`));
    }
    if (response.statusCode >= 400) {
      discard(response.body);
      return page(fail('url_not_accessible', `${url.host} answered HTTP ${response.statusCode}`));
    }
    const contentType = (header(response.headers['content-type']) ?? 'text/plain').toLowerCase();
    const mediaType = contentType.split(';')[0]?.trim() ?? '';
    if (!TEXT_TYPES.test(mediaType)) {
      discard(response.body);
      return page(fail('unsupported_content_type', `${mediaType || 'no content type'} is not text or HTML`));
    }
    const { bytes, truncated } = await readUpTo(response.body, limits.maxBytes);
    const decoded = decode(bytes, contentType);
    const isHtml = mediaType === 'text/html' || mediaType === 'application/xhtml+xml';
    const { title, text } = isHtml ? htmlToText(decoded, url.href) : { title: null, text: decoded };
    return page({ ok: true, url: url.href, contentType: mediaType, title, text, truncated });
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}

/** A socket lookup that answers with the checked addresses whatever DNS says now. */
function pinned(addresses: ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const first = addresses[0]!;
    if (options.all === true) callback(null, addresses.map((entry) => ({ address: entry.address, family: entry.family })));
    else callback(null, first.address, first.family);
  };
}

async function readUpTo(body: Body, maxBytes: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const room = maxBytes - size;
    if (chunk.byteLength > room) {
      chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, room));
      size += room;
      // The rest is never read: the socket goes with the agent.
      discard(body);
      return { bytes: Buffer.concat(chunks, size), truncated: true };
    }
    chunks.push(Buffer.from(chunk));
    size += chunk.byteLength;
  }
  return { bytes: Buffer.concat(chunks, size), truncated: false };
}

type Body = AsyncIterable<Uint8Array> & { destroy(): unknown; on(event: 'error', listener: () => void): unknown };

/** The body is not read: destroyed, its abort error swallowed (nobody reads it to see one). */
function discard(body: Body): void {
  body.on('error', () => undefined);
  body.destroy();
}

function decode(bytes: Buffer, contentType: string): string {
  const charset = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType)?.[1];
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

function parseUrl(text: string, base?: URL): URL | undefined {
  try {
    const url = new URL(text, base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function page(outcome: FetchOutcome): Answer {
  return { kind: 'page', outcome };
}

function fail(code: WebFetchErrorCode, reason: string): FetchOutcome {
  return { ok: false, code, reason };
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = (cause ?? error) as Error & { code?: unknown };
  return typeof code.code === 'string' ? `${code.code}: ${(cause ?? error).message}` : error.message;
}
