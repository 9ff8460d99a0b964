import type { CacheControl, MessageParam, MessagesRequest, RequestContentBlock, Tool } from '../../../anthropic/types.js';
import { featureOfBeta, type Capabilities } from './capabilities.js';
import { foldSystemMessages } from './system-messages.js';

// What a backend does not accept is taken out of the upstream body (a shallow copy the provider
// made once) and of `anthropic-beta`, always together. Nested objects are copied only where they
// change: a Claude Code request is ~100 KB, its 24 tools half of it.

/** What was taken out or changed, in the order found: named in `x-llm-proxy-stripped`. */
export type Stripped = Set<string>;

type Cacheable = { cache_control?: CacheControl };

const isScoped = (block: object): boolean => (block as Cacheable).cache_control?.scope !== undefined;

function unscoped<T extends object>(block: T, stripped: Stripped): T {
  const cache = (block as Cacheable).cache_control;
  if (cache?.scope === undefined) return block;
  stripped.add('cache_control.scope');
  const { scope: _scope, ...rest } = cache;
  return { ...block, cache_control: rest };
}

/** Removes from `body` (the provider's own copy) what `caps` says the backend does not take. */
export function adaptBody(body: MessagesRequest, caps: Capabilities, stripped: Stripped): void {
  if (!caps.contextManagement && body.context_management !== undefined) {
    delete body.context_management;
    stripped.add('context_management');
  }
  if (!caps.outputConfig && body.output_config !== undefined) {
    delete body.output_config;
    stripped.add('output_config');
  }
  if (!caps.cacheScope && Array.isArray(body.system) && body.system.some(isScoped)) {
    body.system = body.system.map((block) => unscoped(block, stripped));
  }
  if (body.tools) body.tools = adaptTools(body.tools, caps, stripped);
  if (!caps.systemMessages) {
    const folded = foldSystemMessages(body.messages);
    if (folded) {
      body.messages = folded;
      stripped.add('role:system');
    }
  }
  if (!caps.cacheScope || !caps.signatures) body.messages = adaptMessages(body.messages, caps, stripped);
}

function adaptTools(tools: Tool[], caps: Capabilities, stripped: Stripped): Tool[] {
  const changes = (tool: Tool) => (!caps.deferLoading && tool.defer_loading !== undefined) || (!caps.cacheScope && isScoped(tool));
  if (!tools.some(changes)) return tools;
  return tools.map((tool) => {
    if (!changes(tool)) return tool;
    let next = caps.cacheScope ? tool : unscoped(tool, stripped);
    if (!caps.deferLoading && next.defer_loading !== undefined) {
      const { defer_loading: _deferLoading, ...rest } = next;
      next = rest;
      stripped.add('defer_loading');
    }
    return next;
  });
}

function adaptMessages(messages: MessageParam[], caps: Capabilities, stripped: Stripped): MessageParam[] {
  let out: MessageParam[] | undefined;
  messages.forEach((message, index) => {
    const next = adaptContent(message, caps, stripped);
    if (next === message && !out) return;
    out ??= messages.slice(0, index);
    out.push(next);
  });
  return out ?? messages;
}

const isThinking = (block: RequestContentBlock) => block.type === 'thinking' || block.type === 'redacted_thinking';

/** A turn without scopes and, for a backend that cannot verify them, without thinking signatures. */
function adaptContent(message: MessageParam, caps: Capabilities, stripped: Stripped): MessageParam {
  const content = message.content;
  if (typeof content === 'string') return message;
  const unsign = !caps.signatures && message.role === 'assistant';
  if (!content.some((block) => (!caps.cacheScope && isScoped(block)) || (unsign && isThinking(block)))) return message;
  const kept: RequestContentBlock[] = [];
  for (const block of content) {
    if (unsign && block.type === 'redacted_thinking') {
      stripped.add('redacted_thinking');
      continue;
    }
    if (unsign && block.type === 'thinking' && block.signature) {
      // Emptied, not removed: servers whose schema copies Anthropic's require the field.
      kept.push({ ...block, signature: '' });
      stripped.add('thinking.signature');
      continue;
    }
    kept.push(caps.cacheScope ? block : unscoped(block, stripped));
  }
  return { ...message, content: kept.length > 0 ? kept : [{ type: 'text', text: '(thinking left out)' }] };
}

/**
 * The `anthropic-beta` value the backend is sent: a feature's beta only with the feature, any
 * other only when `caps.betas` lists it (or is `"all"`). The client's own text when nothing is
 * removed; undefined when nothing is left.
 */
export function adaptBetas(header: string, caps: Capabilities, stripped: Stripped): string | undefined {
  const betas = header.split(',').map((beta) => beta.trim()).filter((beta) => beta !== '');
  const kept = betas.filter((beta) => {
    const feature = featureOfBeta(beta);
    const accepted = feature ? caps[feature] : caps.betas === 'all' || caps.betas.includes(beta);
    if (!accepted) stripped.add(`beta:${beta}`);
    return accepted;
  });
  if (kept.length === betas.length) return header;
  return kept.length > 0 ? kept.join(',') : undefined;
}
