import { randomId } from '../random-id.js';
import type { Message, ResponseContentBlock, StopReason, Usage } from '../anthropic/types.js';
import { ProxyError } from '../errors.js';
import { upstreamErrorPayload } from './error-payload.js';
import type { ChatCompletion, ChatCompletionChoice, ChatUsage, FinishReason } from './types.js';

export interface FromOpenAIResponseOptions {
  /** The model name reported to the client. */
  model: string;
  id?: string;
  /** Used as input_tokens when the backend reports no usage. */
  inputTokens?: number;
  /** Named in errors. */
  backend?: string;
}

/**
 * Translates a whole Chat Completions response into an Anthropic message. The body is checked,
 * not trusted: an error body or one without `choices[0].message` is a named 502.
 */
export function fromOpenAIResponse(res: ChatCompletion, opts: FromOpenAIResponseOptions): Message {
  if (!isObject(res)) throw badResponse(`JSON that is not an object (${JSON.stringify(res).slice(0, 100)})`, opts.backend);
  if (res.error !== undefined && res.error !== null && !Array.isArray(res.choices)) {
    throw upstreamErrorPayload(res.error, { backend: opts.backend, where: 'answered HTTP 200 with an error', code: 'upstream_error_body' });
  }
  if (!Array.isArray(res.choices)) {
    throw badResponse(`JSON without a \`choices\` array (keys: ${Object.keys(res).slice(0, 10).join(', ') || 'none'})`, opts.backend);
  }
  const choice: unknown = res.choices[0];
  if (!isObject(choice) || !isObject(choice.message)) {
    throw badResponse(choice === undefined ? 'an empty `choices` array' : 'a choice without a `message`', opts.backend);
  }
  const checked = choice as unknown as ChatCompletionChoice;
  const { message } = checked;
  const content: ResponseContentBlock[] = [];
  const reasoning = message.reasoning_content || message.reasoning;
  if (reasoning) content.push({ type: 'thinking', thinking: reasoning, signature: '' });
  const text = message.content || message.refusal;
  if (text) content.push({ type: 'text', text });
  for (const call of message.tool_calls ?? []) {
    if (typeof call?.function?.name !== 'string') throw badResponse('a tool call without a function name', opts.backend);
    content.push({
      type: 'tool_use',
      id: call.id || newId('toolu_'),
      name: call.function.name,
      input: parseToolArguments(call.function.arguments),
    });
  }
  const hasToolUse = content.some((block) => block.type === 'tool_use');
  return {
    id: opts.id ?? newId('msg_'),
    type: 'message',
    role: 'assistant',
    model: opts.model,
    content,
    stop_reason: stopReason(checked.finish_reason, hasToolUse),
    stop_sequence: null,
    usage: res.usage
      ? toAnthropicUsage(res.usage)
      : { input_tokens: opts.inputTokens ?? 0, output_tokens: estimateOutputTokens(content) },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badResponse(what: string, backend: string | undefined): ProxyError {
  return new ProxyError(`The backend answered HTTP 200 with ${what}, not a chat completion.`, {
    code: 'upstream_bad_response',
    type: 'api_error',
    status: 502,
    ...(backend === undefined ? {} : { backend }),
    recommendations: ['check the URL points at an OpenAI-compatible API (usually ending in /v1)'],
  });
}

/** The plain OpenAI -> Anthropic mapping; unknown or missing reasons count as end_turn. */
export function mapFinishReason(reason: FinishReason | null | undefined): StopReason {
  switch (reason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/**
 * Backends often say `stop` after emitting tool calls; Claude Code only runs tools on `tool_use`.
 * The reverse (`tool_calls` with no call) would leave it waiting for a tool that does not exist.
 */
export function stopReason(reason: FinishReason | null | undefined, hasToolUse: boolean): StopReason {
  if (hasToolUse) return 'tool_use';
  const mapped = mapFinishReason(reason);
  return mapped === 'tool_use' ? 'end_turn' : mapped;
}

/** OpenAI's prompt_tokens include cached tokens; Anthropic's input_tokens do not. */
export function toAnthropicUsage(usage: ChatUsage): Usage {
  const cached = usage.prompt_tokens_details?.cached_tokens;
  const out: Usage = {
    input_tokens: Math.max(0, usage.prompt_tokens - (cached ?? 0)),
    output_tokens: usage.completion_tokens,
  };
  if (cached !== undefined) out.cache_read_input_tokens = cached;
  return out;
}

/** Tool input must be an object; invalid or non-object arguments become `{}`. */
export function parseToolArguments(raw: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  return {};
}

/** About four characters a token, for backends that report no usage. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

function estimateOutputTokens(content: ResponseContentBlock[]): number {
  let chars = 0;
  for (const block of content) {
    if (block.type === 'text') chars += block.text.length;
    else if (block.type === 'thinking') chars += block.thinking.length;
    else if (block.type === 'tool_use') chars += block.name.length + JSON.stringify(block.input).length;
  }
  return estimateTokens(chars);
}

export function newId(prefix: string): string {
  return prefix + randomId(12, 'hex');
}
