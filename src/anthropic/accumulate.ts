import { ProxyError } from '../errors.js';
import type { ContentBlockStart, ContentDelta, Message, ResponseContentBlock, StreamEvent, WebFetchToolResultBlock } from './types.js';

type Draft =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }
  | ToolDraft<'tool_use'>
  | ToolDraft<'server_tool_use'>
  | { type: 'whole'; block: WebFetchToolResultBlock };

interface ToolDraft<Type extends 'tool_use' | 'server_tool_use'> {
  type: Type;
  id: string;
  name: string;
  json: string;
  input: Record<string, unknown> | undefined;
}

/** Rebuilds a whole Message from an Anthropic event stream. */
export class MessageAccumulator {
  private started: Message | undefined;
  private readonly blocks: Draft[] = [];
  private done = false;

  /** Throws a ProxyError on an `error` event or on events that break the protocol. */
  push(event: StreamEvent): void {
    switch (event.type) {
      case 'message_start':
        if (this.started) throw badStream('a second message_start');
        this.started = { ...event.message, content: [], usage: { ...event.message.usage } };
        return;
      case 'content_block_start':
        this.requireStarted();
        if (this.blocks[event.index]) throw badStream(`a second content_block_start for index ${event.index}`);
        this.blocks[event.index] = draftOf(event.content_block);
        return;
      case 'content_block_delta':
        applyDelta(this.block(event.index), event.delta);
        return;
      case 'content_block_stop': {
        const block = this.block(event.index);
        if (block.type === 'tool_use' || block.type === 'server_tool_use') block.input = parseInput(block.json);
        return;
      }
      case 'message_delta': {
        const message = this.requireStarted();
        const { usage } = event;
        message.stop_reason = event.delta.stop_reason;
        message.stop_sequence = event.delta.stop_sequence;
        message.usage.output_tokens = usage.output_tokens;
        // message_delta usage is cumulative: what it states replaces what message_start said.
        if (usage.input_tokens != null) message.usage.input_tokens = usage.input_tokens;
        if (usage.cache_creation_input_tokens !== undefined) {
          message.usage.cache_creation_input_tokens = usage.cache_creation_input_tokens;
        }
        if (usage.cache_read_input_tokens !== undefined) {
          message.usage.cache_read_input_tokens = usage.cache_read_input_tokens;
        }
        if (usage.server_tool_use !== undefined) message.usage.server_tool_use = usage.server_tool_use;
        return;
      }
      case 'message_stop':
        this.requireStarted();
        this.done = true;
        return;
      case 'ping':
        return;
      case 'error':
        throw new ProxyError(event.error.message, { code: 'upstream_stream_error', type: event.error.type });
    }
  }

  /** True once message_stop has been seen. */
  get complete(): boolean {
    return this.done;
  }

  /** The message so far (whole once `complete`); throws before message_start. */
  message(): Message {
    const message = this.requireStarted();
    const content = this.blocks.filter((block) => block !== undefined).map(toBlock);
    return { ...message, content, usage: { ...message.usage } };
  }

  private requireStarted(): Message {
    if (!this.started) throw badStream('an event before message_start');
    return this.started;
  }

  private block(index: number): Draft {
    const block = this.blocks[index];
    if (!block) throw badStream(`a delta or stop for unknown block index ${index}`);
    return block;
  }
}

/** Drains an event stream into a Message; a stream cut before message_stop is an error. */
export async function collectMessage(events: AsyncIterable<StreamEvent>): Promise<Message> {
  const accumulator = new MessageAccumulator();
  for await (const event of events) accumulator.push(event);
  if (!accumulator.complete) {
    throw new ProxyError('The stream ended before message_stop.', {
      code: 'upstream_incomplete',
      type: 'api_error',
      status: 502,
    });
  }
  return accumulator.message();
}

function draftOf(start: ContentBlockStart): Draft {
  switch (start.type) {
    case 'tool_use':
      return { type: 'tool_use', id: start.id, name: start.name, json: '', input: undefined };
    case 'server_tool_use':
      return { type: 'server_tool_use', id: start.id, name: start.name, json: '', input: undefined };
    case 'thinking':
      return { type: 'thinking', thinking: start.thinking, signature: start.signature ?? '' };
    case 'text':
      return { type: 'text', text: start.text };
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: start.data };
    case 'web_fetch_tool_result':
      // Arrives whole in its content_block_start.
      return { type: 'whole', block: start };
  }
}

function applyDelta(block: Draft, delta: ContentDelta): void {
  if (delta.type === 'text_delta' && block.type === 'text') block.text += delta.text;
  else if (delta.type === 'input_json_delta' && (block.type === 'tool_use' || block.type === 'server_tool_use')) block.json += delta.partial_json;
  else if (delta.type === 'thinking_delta' && block.type === 'thinking') block.thinking += delta.thinking;
  else if (delta.type === 'signature_delta' && block.type === 'thinking') block.signature += delta.signature;
  else throw badStream(`a ${delta.type} for a ${block.type === 'whole' ? block.block.type : block.type} block`);
}

function toBlock(draft: Draft): ResponseContentBlock {
  if (draft.type === 'whole') return draft.block;
  if (draft.type === 'tool_use' || draft.type === 'server_tool_use') {
    const { json, input, ...block } = draft;
    return { ...block, input: input ?? parseInput(json) };
  }
  return { ...draft };
}

function parseInput(json: string): Record<string, unknown> {
  if (!json) return {};
  try {
    const value: unknown = JSON.parse(json);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // invalid JSON: an empty input
  }
  return {};
}

function badStream(what: string): ProxyError {
  return new ProxyError(`Malformed event stream: ${what}.`, {
    code: 'upstream_bad_stream',
    type: 'api_error',
    status: 502,
  });
}
