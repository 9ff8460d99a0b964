import { ProxyError } from '../errors.js';
import type { UpstreamResponse } from '../upstream/http-client.js';
import { readBounded } from '../upstream/read-bounded.js';

/** How a 200 body is to be read, from its content type; `other` is not an API answer at all. */
export type BodyKind = 'json' | 'sse' | 'other';

/** `application/json` (and `+json`) or `text/event-stream`; no content type at all is read as a stream. */
export function bodyKind(contentType: string | undefined): BodyKind {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === '' || type === 'text/event-stream') return 'sse';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  return 'other';
}

const SNIPPET_BYTES = 4096;

/**
 * A 200 that is neither an event stream nor JSON (a login page, a web UI, a captive portal): a
 * named 502 quoting the page's title or first words, with what to check. Reads at most 4 KB.
 */
export async function unexpectedBody(
  response: UpstreamResponse,
  opts: { backend: string; url: string; api: string },
): Promise<ProxyError> {
  const contentType = (response.headers['content-type'] ?? 'no content type').split(';')[0]!.trim();
  const snippet = describeBody(await readBounded(response.body, SNIPPET_BYTES));
  return new ProxyError(
    `The backend answered HTTP 200 with ${contentType} instead of an event stream or JSON${snippet ? ` (${JSON.stringify(snippet)})` : ''}.`,
    {
      code: 'upstream_not_api',
      type: 'api_error',
      status: 502,
      backend: opts.backend,
      recommendations: [`check that the backend URL ${opts.url} points at an ${opts.api}: a web page, a login or a gateway page answered instead`],
    },
  );
}

/** An HTML page's <title>, else its first words without markup, at most 120 characters. */
function describeBody(text: string): string {
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(text)?.[1];
  const plain = (title ?? text.replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ').replace(/<[^>]*>/g, ' ')).replace(/\s+/g, ' ').trim();
  return plain.length > 120 ? `${plain.slice(0, 120)}…` : plain;
}
