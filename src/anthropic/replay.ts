import type { ContentBlockStart, ContentDelta, Message, ResponseContentBlock, StreamEvent } from './types.js';

/** A valid Anthropic event stream for a whole message (e.g. a cached answer to a streaming request). */
export function messageToEvents(message: Message): StreamEvent[] {
  const events: StreamEvent[] = [startEvent(message), { type: 'ping' }];
  message.content.forEach((block, index) => {
    events.push({ type: 'content_block_start', index, content_block: startOf(block) });
    for (const delta of deltasOf(block)) events.push({ type: 'content_block_delta', index, delta });
    events.push({ type: 'content_block_stop', index });
  });
  events.push(
    {
      type: 'message_delta',
      delta: { stop_reason: message.stop_reason, stop_sequence: message.stop_sequence },
      usage: { output_tokens: message.usage.output_tokens },
    },
    { type: 'message_stop' },
  );
  return events;
}

/** The `message_start` of a stream that replays `message`. */
export function startEvent(message: Message): StreamEvent {
  return {
    type: 'message_start',
    message: { ...message, content: [], stop_reason: null, stop_sequence: null, usage: { ...message.usage, output_tokens: 0 } },
  };
}

function startOf(block: ResponseContentBlock): ContentBlockStart {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: '' };
    case 'tool_use':
    case 'server_tool_use':
      return { type: block.type, id: block.id, name: block.name, input: {} };
    case 'thinking':
      return { type: 'thinking', thinking: '', signature: '' };
    case 'redacted_thinking':
      return { type: 'redacted_thinking', data: block.data };
    case 'web_fetch_tool_result':
      return block;
  }
}

function deltasOf(block: ResponseContentBlock): ContentDelta[] {
  switch (block.type) {
    case 'text':
      return block.text ? [{ type: 'text_delta', text: block.text }] : [];
    case 'tool_use':
    case 'server_tool_use':
      return [{ type: 'input_json_delta', partial_json: JSON.stringify(block.input ?? {}) }];
    case 'thinking':
      return [
        { type: 'thinking_delta', thinking: block.thinking },
        ...(block.signature ? [{ type: 'signature_delta' as const, signature: block.signature }] : []),
      ];
    case 'redacted_thinking':
    case 'web_fetch_tool_result':
      return [];
  }
}
