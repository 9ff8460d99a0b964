import { tracingChannel } from 'node:diagnostics_channel';

/** What a traced operation says about itself: a span name and attributes (no content, no secret). */
export interface TracedOperation {
  name: string;
  attributes: Record<string, string | number | boolean>;
}

/** The channel telemetry listens on (`node:diagnostics_channel`, as undici and ioredis publish theirs). */
export const OPERATION_CHANNEL = 'llm-proxy:operation';

// `hasSubscribers` (Node >= 20.13) is missing from the Node 20 typings.
const channel: ReturnType<typeof tracingChannel<unknown, TracedOperation>> & { readonly hasSubscribers?: boolean } = tracingChannel<unknown, TracedOperation>(OPERATION_CHANNEL);

/**
 * Runs `fn` as a traced operation (an embedding call, a lookup of one's own): with telemetry on,
 * a span of the request it runs for; without a subscriber, just `fn()`.
 */
export function traced<T>(operation: TracedOperation, fn: () => Promise<T>): Promise<T> {
  return channel.hasSubscribers === false ? fn() : channel.tracePromise(fn, operation);
}
