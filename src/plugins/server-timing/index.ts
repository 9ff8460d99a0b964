import type { StreamEvent } from '../../anthropic/types.js';
import type { Plugin, ProviderResponse, ProxyContext, UpstreamCall } from '../../kernel/types.js';
import { withInvoke } from '../../plugin-kit/with-invoke.js';

declare module '../../kernel/types.js' {
  interface ContextState {
    /** Time this request waited on upstreams so far, ms (every attempt). */
    upstreamMs?: number;
  }
}

/**
 * Built-in: `Server-Timing` (`proxy;dur=…, upstream;dur=…`, or `cache;desc=hit`) and
 * `x-llm-proxy-overhead-ms` on every Messages answer, so `curl -i` shows what the proxy costs.
 * The proxy's time runs from the whole body's arrival to the answer's headers, less the time spent
 * waiting on the upstream (until a stream's first event, or a whole answer's last). Backends are
 * wrapped (`providers.decorate`) to time the wait; nothing else is added to a request.
 */
export function serverTiming(): Plugin {
  return {
    name: 'server-timing',
    apply({ providers, hooks }) {
      providers.decorate((backend) => withInvoke(backend, (call, invoke) => timed(call, invoke)));
      // A cache hit never reached a backend; its headers go with its first event.
      hooks.transform.tap({ name: 'server-timing', stage: 1000 }, (exchange, ctx) => {
        if (exchange.phase === 'response' && (ctx.cache.status === 'hit' || ctx.cache.status === 'semantic-hit')) stamp(ctx);
        return exchange;
      });
      hooks.error.tap('server-timing', (ctx) => stamp(ctx));
    },
  };
}

async function timed(call: UpstreamCall, invoke: (call: UpstreamCall) => Promise<ProviderResponse>): Promise<ProviderResponse> {
  const ctx = call.context;
  const started = performance.now();
  const add = () => {
    ctx.state.upstreamMs = (ctx.state.upstreamMs ?? 0) + (performance.now() - started);
  };
  let response: ProviderResponse;
  try {
    response = await invoke(call);
  } catch (error) {
    add();
    throw error;
  }
  if (response.kind === 'message') {
    add();
    stamp(ctx);
    return response;
  }
  return { kind: 'stream', events: until(response.events, ctx, add) };
}

/**
 * A client stream's headers go with the first event; a whole answer's once the upstream's last
 * event is in. After a stream's first event the upstream's own iterator is called directly.
 */
function until(events: AsyncIterable<StreamEvent>, ctx: ProxyContext, add: () => void): AsyncIterable<StreamEvent> {
  return {
    [Symbol.asyncIterator]() {
      const upstream = events[Symbol.asyncIterator]();
      let open = true;
      const finish = () => {
        if (!open) return;
        open = false;
        add();
        stamp(ctx);
      };
      const failed = (error: unknown) => {
        finish();
        throw error;
      };
      const iterator: AsyncIterator<StreamEvent> = {
        next: () =>
          upstream.next().then((result) => {
            if (ctx.stream || result.done) {
              finish();
              if (ctx.stream) iterator.next = () => upstream.next();
            }
            return result;
          }, failed),
        return: async () => {
          finish();
          await upstream.return?.();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
  };
}

function stamp(ctx: ProxyContext): void {
  const upstream = ctx.state.upstreamMs;
  const overhead = Math.max(0, performance.now() - ctx.receivedAt - (upstream ?? 0));
  const parts = [`proxy;dur=${overhead.toFixed(2)}`];
  if (upstream !== undefined) parts.push(`upstream;dur=${upstream.toFixed(2)}`);
  if (ctx.cache.status === 'hit' || ctx.cache.status === 'semantic-hit') parts.push(`cache;desc=${ctx.cache.status}`);
  ctx.responseHeaders['server-timing'] = parts.join(', ');
  ctx.responseHeaders['x-llm-proxy-overhead-ms'] = overhead.toFixed(2);
}

export default serverTiming;
