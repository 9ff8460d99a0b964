// Servers say "your prompt does not fit" in their own words; Claude Code acts on the API's:
// `prompt is too long: N tokens > M maximum` makes it compact the conversation, and
// "input length and `max_tokens` exceed context limit: I + T > L" makes it retry with a lower
// max_tokens (both matched in Claude Code 2.1.197). These turn the others' words into those.

export interface ContextOverflow {
  /** The API's wording, with the numbers the server gave. */
  message: string;
}

const already = /prompt is too long|input length and `max_tokens` exceed context limit/i;

// vLLM (before 0.10): "This model's maximum context length is 32768 tokens. However, you requested 40000 tokens (35000 in the messages, 5000 in the completion)."
const requested = /maximum context length is (\d+) tokens?\. However, you requested (\d+) tokens? \((\d+) in the messages?, (\d+) in the completion\)/i;
// vLLM (0.10+): "'max_tokens' or 'max_completion_tokens' is too large: 5000. This model's maximum context length is 32768 tokens and your request has 30000 input tokens (5000 > 32768 - 30000)."
const tooLargeMax = /max_(?:completion_)?tokens'? (?:or '?max_completion_tokens'? )?is too large: (\d+)\. This model's maximum context length is (\d+) tokens? and your request has (\d+) input tokens?/i;
// vLLM, OpenAI: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens." / "... your request has 40000 input tokens."
const resulted = /maximum context length is (\d+) tokens?\. However, (?:your messages resulted in|your request has) (\d+)(?: input)? tokens?/i;
// SGLang: "The input (40000 tokens) is longer than the model's context length (32768 tokens)."
const sglang = /input \((\d+) tokens?\) is longer than the model's context length \((\d+) tokens?\)/i;
// Cerebras and others: "Current length is 70000 while limit is 65536"
const lengthLimit = /current length is (\d+) while limit is (\d+)/i;
// llama.cpp: "the request exceeds the available context size, try increasing it" (with n_prompt_tokens, n_ctx in the body)
const llamaCpp = /exceeds the available context size|exceed_context_size_error/i;
// OpenAI's code, LiteLLM's class, and the rest of the family, without numbers.
const generic = /context_length_exceeded|ContextWindowExceeded|context length exceeded|maximum context length|context window (?:is )?exceeded/i;

const tooLong = (input: number, limit: number) => ({ message: `prompt is too long: ${input} tokens > ${limit} maximum` });
const overMax = (input: number, max: number, limit: number) => ({
  message: `input length and \`max_tokens\` exceed context limit: ${input} + ${max} > ${limit}, decrease input length or \`max_tokens\` and try again`,
});

/** The API's wording for a server's "does not fit" error, or undefined when it is another error. */
export function contextOverflow(text: string, numbers: { promptTokens?: number; contextSize?: number } = {}): ContextOverflow | undefined {
  if (already.test(text)) return undefined;
  let m = requested.exec(text);
  if (m) {
    const [limit, , input, max] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    return input >= limit ? tooLong(input, limit) : overMax(input, max, limit);
  }
  if ((m = tooLargeMax.exec(text))) return overMax(Number(m[3]), Number(m[1]), Number(m[2]));
  if ((m = resulted.exec(text))) return tooLong(Number(m[2]), Number(m[1]));
  if ((m = sglang.exec(text))) return tooLong(Number(m[1]), Number(m[2]));
  if ((m = lengthLimit.exec(text))) return tooLong(Number(m[1]), Number(m[2]));
  if (llamaCpp.test(text) || generic.test(text)) {
    const { promptTokens, contextSize } = numbers;
    if (promptTokens !== undefined && contextSize !== undefined) return tooLong(promptTokens, contextSize);
    return { message: `prompt is too long for the backend's context window (${text.trim()})` };
  }
  return undefined;
}
