import { estimateInputTokens } from '../anthropic/estimate-tokens.js';
import type { MessagesRequest } from '../anthropic/types.js';
import { ProxyError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Backend } from './types.js';

export interface TokenCount {
  tokens: number;
  /** Counted by the server's tokenizer, not estimated. */
  exact: boolean;
}

/**
 * `count_tokens`: the server's own count where it can give one, else the estimate. A server
 * that is down, slow (its own deadline) or has no tokenizer means an estimate; a request the
 * server refused as invalid is the client's to see.
 */
export async function countInputTokens(
  backend: Backend | undefined,
  request: MessagesRequest,
  model: string,
  signal: AbortSignal,
  log: Logger,
): Promise<TokenCount> {
  if (backend?.countTokens) {
    try {
      const tokens = await backend.countTokens(request, model, signal);
      if (tokens !== undefined) return { tokens, exact: true };
    } catch (error) {
      if (error instanceof ProxyError && error.status === 400) throw error;
      log.debug('count_tokens: the backend could not count; estimating', { backend: backend.name, reason: error instanceof Error ? error.message : String(error) });
    }
  }
  return { tokens: estimateInputTokens(request), exact: false };
}
