import { tracingChannel } from 'node:diagnostics_channel';
import { SpanKind, SpanStatusCode, type Span, type Tracer } from '@opentelemetry/api';
import { OPERATION_CHANNEL, type TracedOperation } from '../../src/plugin.js';
import type { TraceCarrier } from './trace-carrier.js';

/** What ioredis (>= 5.10) publishes for each command on `ioredis:command`. */
interface RedisCommand {
  command: string;
  database?: number;
  serverAddress?: string;
  serverPort?: number;
}

type Subscribers<T extends object> = Parameters<ReturnType<typeof tracingChannel<unknown, T>>['subscribe']>[0];

/**
 * Spans for what plugins do while they answer a request, from the diagnostics channels the code
 * doing it publishes: every Redis command (ioredis' own `ioredis:command`) and every operation a
 * plugin runs through `traced` (the semantic cache's embedding calls). A span's parent is the
 * trace context its hook tap runs in; work outside a request (a health ping, the connection
 * check at start-up) gets no span.
 * Returns the unsubscribe.
 */
export function traceChannels(tracer: Tracer, carrier: TraceCarrier): () => void {
  const redis = subscribe<RedisCommand>('ioredis:command', tracer, carrier, (command) => ({
    name: `redis ${command.command.toUpperCase()}`,
    kind: SpanKind.CLIENT,
    attributes: {
      'db.system.name': 'redis',
      'db.operation.name': command.command.toUpperCase(),
      ...(command.database === undefined ? {} : { 'db.namespace': String(command.database) }),
      ...(command.serverAddress === undefined ? {} : { 'server.address': command.serverAddress }),
      ...(command.serverPort === undefined ? {} : { 'server.port': command.serverPort }),
    },
  }));
  const operations = subscribe<TracedOperation>(OPERATION_CHANNEL, tracer, carrier, (operation) => ({
    name: operation.name,
    kind: SpanKind.CLIENT,
    attributes: operation.attributes,
  }));
  return () => {
    redis();
    operations();
  };
}

function subscribe<T extends object>(
  name: string,
  tracer: Tracer,
  carrier: TraceCarrier,
  describe: (message: T) => { name: string; kind: SpanKind; attributes: Record<string, string | number | boolean> },
): () => void {
  const channel = tracingChannel<unknown, T>(name);
  const open = new WeakMap<T, Span>();
  const subscribers: Subscribers<T> = {
    start(message) {
      // The first message says there is something to trace: requests carry their context from now on.
      carrier.need();
      const parent = carrier.current();
      if (!parent) return;
      const { name: spanName, kind, attributes } = describe(message);
      open.set(message, tracer.startSpan(spanName, { kind, attributes }, parent));
    },
    end(message) {
      // A synchronous throw: no asyncEnd follows.
      if (!('error' in message)) return;
      open.get(message)?.end();
      open.delete(message);
    },
    asyncStart() {},
    asyncEnd(message) {
      open.get(message)?.end();
      open.delete(message);
    },
    error(message) {
      const span = open.get(message);
      if (!span) return;
      const error = (message as { error?: unknown }).error;
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : 'error' });
    },
  };
  channel.subscribe(subscribers);
  return () => channel.unsubscribe(subscribers);
}
