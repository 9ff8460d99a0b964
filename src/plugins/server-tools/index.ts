import type { Plugin, ProxyContext } from '../../kernel/types.js';
import { parsePluginOptions } from '../../plugin-kit/plugin-options.js';
import { serverToolsOptions, type ServerToolsOptions } from './options.js';
import { removeServerTools } from './remove.js';

declare module '../../kernel/types.js' {
  interface ContextState {
    /** The warning this plugin put in `x-llm-proxy-warning` (taken back when a failover attempt goes elsewhere). */
    serverToolsWarning?: string;
  }
}

export { serverToolsOptions, type ServerToolsOptions } from './options.js';

/**
 * Built-in: a request's server tools (`web_search_*`, `web_fetch_*`, … — tools with a `type` other
 * than `custom`) reach only a backend that runs them (`Backend.isAnthropicApi`). For any other
 * backend they are removed, with an `x-llm-proxy-warning` header, a log line and (by default) a
 * line in the system prompt telling the model; a `tool_choice` naming a removed tool is dropped.
 * Per attempt, after routing (`transform`, phase `request`), at a late stage so a plugin that runs
 * a server tool itself (`web-fetch`) has replaced it by then.
 */
export function serverTools(options: ServerToolsOptions = {}): Plugin {
  const systemNote = parsePluginOptions('server-tools', serverToolsOptions, options).systemNote ?? true;
  return {
    name: 'server-tools',
    apply({ hooks }) {
      hooks.transform.tap({ name: 'server-tools', stage: 100 }, (exchange, ctx) => {
        if (exchange.phase !== 'request') return exchange;
        takeBackWarning(ctx);
        const backend = ctx.route?.backend;
        if (!backend || backend.isAnthropicApi === true) return exchange;
        const removal = removeServerTools(exchange.body, systemNote);
        if (!removal) return exchange;
        warn(ctx, backend.name, removal.removed, removal.droppedToolChoice);
        return { phase: 'request', body: removal.body };
      });
    },
  };
}

function warn(ctx: ProxyContext, backend: string, removed: string[], droppedToolChoice: boolean): void {
  const names = removed.join(', ');
  const warning = `${names} removed: backend "${backend}" cannot run Anthropic server tools${droppedToolChoice ? ' (tool_choice dropped)' : ''}`;
  const previous = ctx.responseHeaders['x-llm-proxy-warning'];
  // Another plugin's warning (the rate-limit advisor's) stays.
  ctx.responseHeaders['x-llm-proxy-warning'] = previous ? `${previous}; ${warning}` : warning;
  ctx.state.serverToolsWarning = warning;
  ctx.log.warn(`server tools removed: ${warning}`, { backend, tools: names });
}

/** A failover attempt decides afresh: the previous attempt's warning goes. */
function takeBackWarning(ctx: ProxyContext): void {
  const ours = ctx.state.serverToolsWarning;
  if (ours === undefined) return;
  ctx.state.serverToolsWarning = undefined;
  const header = ctx.responseHeaders['x-llm-proxy-warning'];
  if (header === undefined) return;
  const rest = header.split('; ').filter((part) => part !== ours);
  if (rest.length > 0) ctx.responseHeaders['x-llm-proxy-warning'] = rest.join('; ');
  else delete ctx.responseHeaders['x-llm-proxy-warning'];
}

export default serverTools;
