import type { MessagesRequest } from './types.js';

/**
 * A rough token count (about 4 characters a token) for backends without a tokenizer
 * endpoint; Claude Code only uses it to show context usage.
 */
export function estimateInputTokens(request: MessagesRequest): number {
  let chars = 0;
  const add = (value: unknown): void => {
    if (typeof value === 'string') chars += value.length;
    else if (Array.isArray(value)) for (const item of value) add(item);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'data' || key === 'cache_control' || key === 'signature') continue;
        add(inner);
      }
    }
  };
  add(request.system);
  add(request.messages);
  add(request.tools);
  return Math.max(1, Math.ceil(chars / 4));
}
