import type { MessagesRequest } from '../../anthropic/types.js';
import { ProxyError } from '../../errors.js';
import type { KnownWindow } from './windows.js';

/**
 * The least room an answer needs: Claude Code's own floor when it lowers `max_tokens` after an
 * "input length and `max_tokens` exceed context limit" error (FLOOR_OUTPUT_TOKENS, 2.1.197).
 */
export const MIN_ANSWER_TOKENS = 3_000;

export type Fit = { kind: 'fits' } | { kind: 'clamped'; maxTokens: number } | { kind: 'too-long'; error: ProxyError };

/**
 * Whether `inputTokens` (estimated) and the request's `max_tokens` fit the window: as asked, with
 * `max_tokens` lowered to what is left, or not at all. The refusal uses the API's wording, which
 * Claude Code reads (`prompt is too long: N tokens > M maximum`) to compact the conversation and
 * to know by how much.
 */
export function fit(request: MessagesRequest, inputTokens: number, window: KnownWindow, backend: string, model: string): Fit {
  const left = window.tokens - inputTokens;
  if (request.max_tokens <= left) return { kind: 'fits' };
  const floor = Math.min(request.max_tokens, MIN_ANSWER_TOKENS);
  if (left >= floor) return { kind: 'clamped', maxTokens: left };
  const maximum = window.tokens - floor;
  return {
    kind: 'too-long',
    error: new ProxyError(
      `prompt is too long: ${inputTokens} tokens > ${maximum} maximum (estimated; model "${model}" on this backend has a context window of ${window.tokens} tokens, from ${window.source}, and ${floor} are kept for the answer)`,
      {
        code: 'context_window_exceeded',
        type: 'invalid_request_error',
        status: 400,
        backend,
        retryable: false,
        recommendations: ['compact the conversation (/compact in Claude Code), or switch to a backend with a larger context window'],
      },
    ),
  };
}
