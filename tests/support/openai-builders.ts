// OpenAI wire shapes (what vLLM, Ollama's /v1, LiteLLM and Cerebras send) and builders of replies in them.

import { newChatCompletionId, newToolCallId, randomHex } from './random-ids.js';
import { estimateTokens, splitText } from './text-pieces.js';

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number } | null;
  completion_tokens_details?: { reasoning_tokens: number } | null;
}

export interface OpenAIToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface OpenAIChunkDelta {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string;
  reasoning?: string;
  tool_calls?: OpenAIToolCallDelta[];
}

export interface OpenAIChunkChoice {
  index: number;
  delta: OpenAIChunkDelta;
  logprobs: null;
  finish_reason: OpenAIFinishReason | null;
}

export interface OpenAIChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint: string | null;
  choices: OpenAIChunkChoice[];
  usage?: OpenAIUsage | null;
}

/** A chunk of an `openai-stream` reply: a well-formed chunk or any JSON object (provider extras, oddities). */
export type ChatChunkLike = OpenAIChatChunk | { readonly [key: string]: unknown };

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAIResponseMessage {
  role: 'assistant';
  content: string | null;
  reasoning_content?: string;
  reasoning?: string;
  tool_calls?: OpenAIToolCall[];
}

export interface OpenAIChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint: string | null;
  choices: Array<{
    index: number;
    message: OpenAIResponseMessage;
    logprobs: null;
    finish_reason: OpenAIFinishReason;
  }>;
  usage: OpenAIUsage;
}

const DEFAULT_OPENAI_MODEL = 'qwen-3-coder-480b';

export interface OpenAIBuilderOptions {
  model?: string;
  id?: string;
  created?: number;
  /** `null` for servers that send none (vLLM, Ollama). */
  systemFingerprint?: string | null;
  usage?: { prompt_tokens: number; completion_tokens: number };
}

interface Envelope {
  id: string;
  created: number;
  model: string;
  system_fingerprint: string | null;
}

function envelope(opts: OpenAIBuilderOptions): Envelope {
  return {
    id: opts.id ?? newChatCompletionId(),
    created: opts.created ?? Math.floor(Date.now() / 1000),
    model: opts.model ?? DEFAULT_OPENAI_MODEL,
    system_fingerprint: opts.systemFingerprint === undefined ? `fp_${randomHex(10)}` : opts.systemFingerprint,
  };
}

function fullUsage(usage: { prompt_tokens: number; completion_tokens: number }): OpenAIUsage {
  return { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.prompt_tokens + usage.completion_tokens };
}

function chunk(env: Envelope, delta: OpenAIChunkDelta, finishReason: OpenAIFinishReason | null = null): OpenAIChatChunk {
  return { ...env, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] };
}

export interface OpenAITextOptions extends OpenAIBuilderOptions {
  reasoning?: string;
  /** Where reasoning goes: `reasoning_content` (vLLM, DeepSeek; default) or `reasoning` (Cerebras, Ollama). */
  reasoningField?: 'reasoning_content' | 'reasoning';
  finishReason?: OpenAIFinishReason;
}

/** A whole non-streaming `chat.completion` answering `text`. */
export function openaiText(text: string, opts: OpenAITextOptions = {}): OpenAIChatCompletion {
  const env = envelope(opts);
  const message: OpenAIResponseMessage = { role: 'assistant', content: text };
  if (opts.reasoning !== undefined) message[opts.reasoningField ?? 'reasoning_content'] = opts.reasoning;
  return {
    ...env,
    object: 'chat.completion',
    choices: [{ index: 0, message, logprobs: null, finish_reason: opts.finishReason ?? 'stop' }],
    usage: fullUsage(opts.usage ?? { prompt_tokens: 12, completion_tokens: estimateTokens(text) }),
  };
}

export interface OpenAITextChunkOptions extends OpenAITextOptions {
  /** Number of content deltas (default 3, at most one per character). */
  pieces?: number;
  /** Append the usage-only chunk (`choices: []`) that include_usage produces (default true). */
  includeUsage?: boolean;
}

/**
 * The chunks of a streamed answer: a role chunk (`role: 'assistant', content: ''`), reasoning
 * deltas when asked, `pieces` content deltas, a chunk with `finish_reason`, then a usage-only chunk
 * with `choices: []` (as OpenAI and vLLM send with `stream_options.include_usage`).
 */
export function openaiTextChunks(text: string, opts: OpenAITextChunkOptions = {}): OpenAIChatChunk[] {
  const env = envelope(opts);
  const out: OpenAIChatChunk[] = [chunk(env, { role: 'assistant', content: '' })];
  if (opts.reasoning !== undefined) {
    const field = opts.reasoningField ?? 'reasoning_content';
    for (const piece of splitText(opts.reasoning, opts.pieces ?? 3)) out.push(chunk(env, { [field]: piece }));
  }
  for (const piece of splitText(text, opts.pieces ?? 3)) out.push(chunk(env, { content: piece }));
  out.push(chunk(env, {}, opts.finishReason ?? 'stop'));
  if (opts.includeUsage !== false) {
    const usage = opts.usage ?? { prompt_tokens: 12, completion_tokens: estimateTokens(text) + (opts.reasoning ? estimateTokens(opts.reasoning) : 0) };
    out.push({ ...env, object: 'chat.completion.chunk', choices: [], usage: fullUsage(usage) });
  }
  return out;
}

export interface OpenAIToolCallSpec {
  name: string;
  args: object;
  id?: string;
}

/** A whole `chat.completion` calling one tool (`finish_reason: 'tool_calls'`). */
export function openaiToolCall(name: string, args: object, opts: OpenAIBuilderOptions & { callId?: string; content?: string | null } = {}): OpenAIChatCompletion {
  const env = envelope(opts);
  const argsJson = JSON.stringify(args);
  return {
    ...env,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: opts.content ?? null,
          tool_calls: [{ id: opts.callId ?? newToolCallId(), type: 'function', function: { name, arguments: argsJson } }],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      },
    ],
    usage: fullUsage(opts.usage ?? { prompt_tokens: 120, completion_tokens: estimateTokens(argsJson) + 8 }),
  };
}

/**
 * The chunks of streamed tool calls: for each call (keyed by `index`) a first fragment with `id`,
 * `type` and `function.name` (and `arguments: ''`), then the arguments JSON split over `fragments`
 * deltas (default 3); then `finish_reason: 'tool_calls'` and the usage-only chunk.
 * `content` streams some text before the calls.
 */
export function openaiToolCallChunks(
  calls: OpenAIToolCallSpec[],
  opts: OpenAIBuilderOptions & { fragments?: number; content?: string; includeUsage?: boolean } = {},
): OpenAIChatChunk[] {
  const env = envelope(opts);
  const out: OpenAIChatChunk[] = [];
  if (opts.content !== undefined) {
    out.push(chunk(env, { role: 'assistant', content: '' }));
    for (const piece of splitText(opts.content, 2)) out.push(chunk(env, { content: piece }));
  }
  let argsChars = 0;
  calls.forEach((call, index) => {
    const argsJson = JSON.stringify(call.args);
    argsChars += argsJson.length;
    const first: OpenAIToolCallDelta = { index, id: call.id ?? newToolCallId(), type: 'function', function: { name: call.name, arguments: '' } };
    const delta: OpenAIChunkDelta = out.length === 0 ? { role: 'assistant', content: null, tool_calls: [first] } : { tool_calls: [first] };
    out.push(chunk(env, delta));
    for (const piece of splitText(argsJson, opts.fragments ?? 3)) {
      out.push(chunk(env, { tool_calls: [{ index, function: { arguments: piece } }] }));
    }
  });
  out.push(chunk(env, {}, 'tool_calls'));
  if (opts.includeUsage !== false) {
    out.push({ ...env, object: 'chat.completion.chunk', choices: [], usage: fullUsage(opts.usage ?? { prompt_tokens: 120, completion_tokens: Math.ceil(argsChars / 4) + 8 }) });
  }
  return out;
}
