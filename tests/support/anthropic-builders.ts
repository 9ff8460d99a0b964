import type { ContentBlockStart, Message, ResponseContentBlock, StopReason, StreamEvent, Usage } from '../../src/anthropic/types.js';
import { newMessageId, newToolUseId } from './random-ids.js';
import { estimateTokens, splitText } from './text-pieces.js';

const DEFAULT_ANTHROPIC_MODEL = 'claude-sonnet-4-5-20250929';

export interface AnthropicBuilderOptions {
  model?: string;
  id?: string;
  usage?: { input_tokens: number; output_tokens: number };
}

function anthropicMessage(content: ResponseContentBlock[], stopReason: StopReason | null, usage: Usage, opts: AnthropicBuilderOptions): Message {
  return {
    id: opts.id ?? newMessageId(),
    type: 'message',
    role: 'assistant',
    model: opts.model ?? DEFAULT_ANTHROPIC_MODEL,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage,
  };
}

function anthropicUsage(input: number, output: number): Usage {
  return { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: output };
}

/** A whole Anthropic Message answering `text` (`stop_reason: 'end_turn'`). */
export function anthropicText(text: string, opts: AnthropicBuilderOptions = {}): Message {
  const usage = opts.usage ?? { input_tokens: 12, output_tokens: estimateTokens(text) };
  return anthropicMessage([{ type: 'text', text }], 'end_turn', anthropicUsage(usage.input_tokens, usage.output_tokens), opts);
}

/** A whole Anthropic Message calling one tool (`stop_reason: 'tool_use'`). */
export function anthropicToolUse(name: string, input: object, opts: AnthropicBuilderOptions & { toolUseId?: string } = {}): Message {
  const usage = opts.usage ?? { input_tokens: 120, output_tokens: estimateTokens(JSON.stringify(input)) + 8 };
  return anthropicMessage(
    [{ type: 'tool_use', id: opts.toolUseId ?? newToolUseId(), name, input }],
    'tool_use',
    anthropicUsage(usage.input_tokens, usage.output_tokens),
    opts,
  );
}

function messageStart(opts: AnthropicBuilderOptions, inputTokens: number): StreamEvent {
  return { type: 'message_start', message: anthropicMessage([], null, anthropicUsage(inputTokens, 1), opts) };
}

/**
 * The event sequence the real API sends for a text answer: message_start, content_block_start,
 * ping, content_block_delta (text_delta) x pieces, content_block_stop, message_delta, message_stop.
 */
export function anthropicTextEvents(text: string, opts: AnthropicBuilderOptions & { pieces?: number } = {}): StreamEvent[] {
  const usage = opts.usage ?? { input_tokens: 12, output_tokens: estimateTokens(text) };
  const start: ContentBlockStart = { type: 'text', text: '' };
  return [
    messageStart(opts, usage.input_tokens),
    { type: 'content_block_start', index: 0, content_block: start },
    { type: 'ping' },
    ...splitText(text, opts.pieces ?? 2).map((piece): StreamEvent => ({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } })),
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } },
    { type: 'message_stop' },
  ];
}

/**
 * The event sequence for a tool call: optional text block, then a tool_use block whose input
 * arrives as input_json_delta fragments (the first one empty, as the real API does).
 */
export function anthropicToolUseEvents(
  name: string,
  input: object,
  opts: AnthropicBuilderOptions & { toolUseId?: string; text?: string; fragments?: number } = {},
): StreamEvent[] {
  const inputJson = JSON.stringify(input);
  const usage = opts.usage ?? { input_tokens: 120, output_tokens: estimateTokens(inputJson) + 8 };
  const events: StreamEvent[] = [messageStart(opts, usage.input_tokens)];
  let index = 0;
  if (opts.text !== undefined) {
    events.push({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } });
    if (index === 0) events.push({ type: 'ping' });
    for (const piece of splitText(opts.text, 2)) events.push({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } });
    events.push({ type: 'content_block_stop', index });
    index++;
  }
  events.push({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: opts.toolUseId ?? newToolUseId(), name, input: {} } });
  if (index === 0) events.push({ type: 'ping' });
  events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: '' } });
  for (const piece of splitText(inputJson, opts.fragments ?? 3)) {
    events.push({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } });
  }
  events.push(
    { type: 'content_block_stop', index },
    { type: 'message_delta', delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: usage.output_tokens } },
    { type: 'message_stop' },
  );
  return events;
}
