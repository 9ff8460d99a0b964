import { ProxyError } from '../errors.js';

/** An OpenAI-style stream's end marker, `data: [DONE]`. */
export const isDoneMarker = (data: string): boolean => data.trim() === '[DONE]';

/**
 * JSON.parse each event's data until the end marker (`[DONE]` by default). Events with empty
 * data (keep-alives) are skipped. The parsed value is trusted to be `T`; validate downstream.
 */
export async function* parseJSONEvents<T>(
  events: AsyncIterable<{ data: string }>,
  opts: { backend: string; isDone?: (data: string) => boolean },
): AsyncIterable<T> {
  const isDone = opts.isDone ?? isDoneMarker;
  for await (const { data } of events) {
    if (isDone(data)) return;
    const value = parseJSONEvent<T>(data, opts.backend);
    if (value !== undefined) yield value;
  }
}

/** What parseJSONEvents makes of one event's data: its JSON, or undefined for a keep-alive (empty data). */
export function parseJSONEvent<T>(data: string, backend: string | undefined): T | undefined {
  if (!data.trim()) return undefined;
  try {
    return JSON.parse(data) as T;
  } catch (cause) {
    throw new ProxyError(`the backend streamed a chunk that is not valid JSON: ${JSON.stringify(data.slice(0, 200))}`, {
      code: 'upstream_malformed',
      type: 'api_error',
      status: 502,
      ...(backend === undefined ? {} : { backend }),
      recommendations: ['check that the backend URL points at an OpenAI-compatible (or Anthropic) API'],
      cause,
    });
  }
}
