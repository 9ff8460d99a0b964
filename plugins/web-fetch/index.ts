import { parsePluginOptions, withInvoke, type Plugin, type ProxyContext, type UpstreamCall } from '../../src/plugin.js';
import { AddressGuard } from './address-guard.js';
import { converse, type Conversation } from './conversation.js';
import { fetchPage, systemResolver, type FetchLimits, type FetchOutcome } from './fetch-page.js';
import { historyForBackend } from './history.js';
import { webFetchOptions, type WebFetchOptions } from './options.js';
import { withClientTool, type WebFetchTurn } from './tool.js';

export { webFetchOptions, type WebFetchOptions } from './options.js';
export type { HostResolver, ResolvedAddress } from './fetch-page.js';

declare module '../../src/plugin.js' {
  interface ContextState {
    /** Set per attempt when this plugin runs web_fetch for the request's backend. */
    webFetch?: WebFetchTurn;
  }
}

const MB = 1024 * 1024;

/**
 * Runs Anthropic's `web_fetch` server tool in the proxy for backends that cannot
 * (`isAnthropicApi !== true`): the backend is given a client-style `web_fetch` tool, the proxy
 * fetches what the model asks for (guarded: public addresses only, checked after DNS and pinned
 * for the connection; http and https; size, time and redirect limits; the definition's domain
 * lists) and continues the conversation with the backend until the model answers without it.
 * The client gets the API's `server_tool_use` and `web_fetch_tool_result` blocks.
 */
export function webFetch(options: WebFetchOptions = {}): Plugin {
  const checked = parsePluginOptions('web-fetch', webFetchOptions, options);
  const defaultMaxUses = checked.maxUses ?? 5;
  const limits: FetchLimits = {
    timeoutMs: checked.timeoutMs ?? 10_000,
    maxBytes: checked.maxBytes ?? MB,
    maxRedirects: checked.maxRedirects ?? 5,
    userAgent: checked.userAgent ?? 'llm-proxy-web-fetch/1 (+https://www.npmjs.com/package/@jleechan/llm-proxy-server)',
  };
  const guard = new AddressGuard(checked.allowPrivateAddresses);
  const resolve = checked.resolve ?? systemResolver;
  const own = new WeakSet<UpstreamCall>();
  return {
    name: 'web-fetch',
    apply({ hooks, providers, logger }) {
      if (checked.allowPrivateAddresses?.length) {
        logger.warn(`web-fetch: allowPrivateAddresses lets fetches reach ${checked.allowPrivateAddresses.join(', ')}; for tests and development only`);
      }
      // Before server-tools (stage 100), which would remove the server tool.
      hooks.transform.tap({ name: 'web-fetch', stage: 0 }, (exchange, ctx) => {
        if (exchange.phase !== 'request') return exchange;
        ctx.state.webFetch = undefined;
        if (!ctx.route || ctx.route.backend.isAnthropicApi === true) return exchange;
        const replaced = withClientTool(exchange.body, defaultMaxUses);
        if (!replaced) return exchange;
        ctx.state.webFetch = replaced.turn;
        ctx.log.debug('web-fetch: the proxy runs web_fetch for this request', { backend: ctx.route.backend.name, maxUses: replaced.turn.maxUses });
        return { phase: 'request', body: historyForBackend(replaced.body, replaced.turn.name) };
      });
      providers.decorate((backend) =>
        withInvoke(backend, (call, invoke) => {
          const turn = call.context.state.webFetch;
          if (!turn || own.has(call)) return invoke(call);
          const conversation: Conversation = {
            invoke,
            own,
            fetch: (url, fetchTurn, signal) => fetchPage(url, fetchTurn.rules, guard, resolve, limits, signal),
            onFetch: (url, outcome) => logFetch(call.context, url, outcome),
          };
          return converse(call, turn, conversation);
        }),
      );
    },
  };
}

function logFetch(ctx: ProxyContext, url: string, outcome: FetchOutcome): void {
  if (outcome.ok) ctx.log.info('web-fetch: fetched', { url: outcome.url, type: outcome.contentType, chars: outcome.text.length, truncated: outcome.truncated });
  else ctx.log.warn(`web-fetch: ${outcome.code}: ${outcome.reason}`, { url: url.slice(0, 250), error: outcome.code });
}

export default webFetch;
