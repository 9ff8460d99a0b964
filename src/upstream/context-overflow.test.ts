// Each server's "does not fit" wording, as it sends it, turned into the API's: Claude Code
// compacts on the first and lowers max_tokens on the second (2.1.197).

import { describe, expect, it } from 'vitest';
import { contextOverflow } from './context-overflow.js';

describe('contextOverflow', () => {
  it.each([
    [
      'vLLM, the completion does not fit',
      "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens (30000 in the messages, 10000 in the completion). Please reduce the length of the messages or completion.",
      'input length and `max_tokens` exceed context limit: 30000 + 10000 > 32768, decrease input length or `max_tokens` and try again',
    ],
    [
      'vLLM, the prompt alone does not fit',
      "This model's maximum context length is 32768 tokens. However, you requested 45000 tokens (40000 in the messages, 5000 in the completion). Please reduce the length of the messages or completion.",
      'prompt is too long: 40000 tokens > 32768 maximum',
    ],
    [
      'vLLM 0.10+, max_tokens too large',
      "'max_tokens' or 'max_completion_tokens' is too large: 5000. This model's maximum context length is 32768 tokens and your request has 30000 input tokens (5000 > 32768 - 30000).",
      'input length and `max_tokens` exceed context limit: 30000 + 5000 > 32768, decrease input length or `max_tokens` and try again',
    ],
    ['OpenAI', "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens. Please reduce the length of the messages. context_length_exceeded", 'prompt is too long: 9000 tokens > 8192 maximum'],
    ['SGLang', "The input (40000 tokens) is longer than the model's context length (32768 tokens).", 'prompt is too long: 40000 tokens > 32768 maximum'],
    ['Cerebras', 'Please reduce the length of the messages or completion. Current length is 70000 while limit is 65536 context_length_exceeded', 'prompt is too long: 70000 tokens > 65536 maximum'],
  ])('%s', (_server, text, expected) => {
    expect(contextOverflow(text)?.message).toBe(expected);
  });

  it("llama.cpp: the numbers come from the error's n_prompt_tokens and n_ctx", () => {
    const text = 'the request exceeds the available context size, try increasing it exceed_context_size_error';
    expect(contextOverflow(text, { promptTokens: 9000, contextSize: 8192 })?.message).toBe('prompt is too long: 9000 tokens > 8192 maximum');
    expect(contextOverflow(text)?.message).toMatch(/^prompt is too long for the backend's context window/);
  });

  it("leaves the API's own wording and other errors alone", () => {
    expect(contextOverflow('prompt is too long: 210000 tokens > 200000 maximum')).toBeUndefined();
    expect(contextOverflow('max_tokens: Field required')).toBeUndefined();
    expect(contextOverflow('Tokens per minute limit exceeded - too many tokens processed.')).toBeUndefined();
  });
});
