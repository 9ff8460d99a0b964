import type { ServedModel } from '../../src/plugin.js';

/**
 * Cerebras's /v1/models says nothing of context length, and the window depends on the account's
 * tier, which a key does not reveal: these are the free tier's windows from Cerebras's model
 * pages (paid tiers get about twice as much: set the backend's `contextWindow` to use it).
 */
export const CEREBRAS_CONTEXT_WINDOWS: Readonly<Record<string, number>> = {
  'gpt-oss-120b': 65_536,
  'qwen-3.8-27b': 65_536,
  'qwen-3-coder-480b': 65_536,
  'qwen-3-235b-a22b-instruct-2507': 65_536,
  'qwen-3-235b-a22b-thinking-2507': 65_536,
  'qwen-3-32b': 65_536,
  'zai-glm-4.6': 65_536,
  'zai-glm-4.7': 65_536,
  'llama-3.3-70b': 65_536,
  'llama3.1-8b': 8_192,
};

/** Every model Cerebras serves has had at least this on the free tier, except the smallest. */
const DEFAULT_WINDOW = 65_536;

export function cerebrasModelInfo(model: string): ServedModel {
  const known = CEREBRAS_CONTEXT_WINDOWS[model];
  return known === undefined
    ? { contextWindow: DEFAULT_WINDOW, source: 'Cerebras free tier (model not in the table)' }
    : { contextWindow: known, source: 'Cerebras free-tier table' };
}
