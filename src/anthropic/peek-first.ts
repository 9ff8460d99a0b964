import { ProxyError } from '../errors.js';
import type { ProviderResponse } from '../kernel/types.js';
import type { StreamEvent } from './types.js';

/**
 * Waits for a stream's first event, so that a stream failing before it (an error event, or an
 * end without events) is a rejection another attempt can follow, and returns the same stream.
 */
export async function peekFirst(events: AsyncIterable<StreamEvent>, backend: string): Promise<ProviderResponse> {
  const iterator = events[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) {
    throw new ProxyError('the upstream stream ended before its first event', { code: 'upstream_incomplete', type: 'api_error', status: 502, backend });
  }
  if (first.value.type === 'error') {
    void iterator.return?.();
    throw new ProxyError(first.value.error.message, { code: 'upstream_stream_error', type: first.value.error.type, backend });
  }
  return { kind: 'stream', events: replay(first.value, iterator) };
}

/** The peeked event, then the rest; closing it closes the upstream stream. */
async function* replay(first: StreamEvent, rest: AsyncIterator<StreamEvent>): AsyncIterable<StreamEvent> {
  try {
    yield first;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}
