import type { Span } from '@opentelemetry/api';
import type { MessagesRequest, ProviderResponse, RequestContentBlock, ResponseContentBlock, StreamEvent } from '../../src/plugin.js';

/** A captured attribute is at most this many characters (a Claude Code request is 100 KB; Jaeger shows a few KB well). */
export const CONTENT_LIMIT = 16_384;

const clip = (text: string) => (text.length > CONTENT_LIMIT ? `${text.slice(0, CONTENT_LIMIT)}… [${text.length - CONTENT_LIMIT} more characters]` : text);

/**
 * With `captureContent` on: the turn the request adds (its last message) as `gen_ai.input.messages`,
 * in the GenAI conventions' JSON, clipped. The system prompt and the earlier turns are the same
 * on every request of a session, and stay off the span.
 */
export function recordInput(span: Span, request: MessagesRequest): void {
  const last = request.messages.at(-1);
  if (!last) return;
  const parts = typeof last.content === 'string' ? [{ type: 'text', content: last.content }] : last.content.map(part);
  span.setAttribute('gen_ai.input.messages', clip(JSON.stringify([{ role: last.role, parts }])));
}

/** The answer's text and tool calls as `gen_ai.output.messages`; a stream's are gathered as it passes, clipped. */
export function recordOutput(span: Span, response: ProviderResponse): ProviderResponse {
  if (response.kind === 'message') {
    setOutput(span, response.message.content.map(part), response.message.stop_reason);
    return response;
  }
  return { kind: 'stream', events: gather(span, response.events) };
}

async function* gather(span: Span, events: AsyncIterable<StreamEvent>): AsyncIterable<StreamEvent> {
  const parts: Array<{ type: string; content?: string; name?: string; arguments?: string }> = [];
  let size = 0;
  let finish: string | null | undefined;
  let recorded = false;
  try {
    for await (const event of events) {
      if (size < CONTENT_LIMIT) {
        if (event.type === 'content_block_start') {
          const block = event.content_block;
          parts[event.index] = block.type === 'tool_use' ? { type: 'tool_call', name: block.name, arguments: '' } : { type: block.type === 'text' ? 'text' : block.type, content: '' };
        } else if (event.type === 'content_block_delta') {
          const target = parts[event.index];
          const piece = event.delta.type === 'text_delta' ? event.delta.text : event.delta.type === 'input_json_delta' ? event.delta.partial_json : '';
          if (target && piece) {
            if (target.type === 'tool_call') target.arguments += piece;
            else target.content += piece;
            size += piece.length;
          }
        }
      }
      if (event.type === 'message_delta') finish = event.delta.stop_reason;
      // Recorded at the stream's end, before the event goes on: the request's span may end as soon as the client has it.
      if (event.type === 'message_stop') {
        setOutput(span, parts.filter(Boolean), finish);
        recorded = true;
      }
      yield event;
    }
  } finally {
    // A stream cut short: what came.
    if (!recorded) setOutput(span, parts.filter(Boolean), finish);
  }
}

function setOutput(span: Span, parts: unknown[], finish: string | null | undefined): void {
  span.setAttribute('gen_ai.output.messages', clip(JSON.stringify([{ role: 'assistant', parts, ...(finish ? { finish_reason: finish } : {}) }])));
}

function part(block: RequestContentBlock | ResponseContentBlock): Record<string, unknown> {
  switch (block.type) {
    case 'text':
      return { type: 'text', content: block.text };
    case 'tool_use':
      return { type: 'tool_call', id: block.id, name: block.name, arguments: block.input };
    case 'tool_result':
      return { type: 'tool_call_response', id: block.tool_use_id, response: block.content };
    default:
      // Images, documents, thinking, server tool blocks: named, not copied.
      return { type: block.type };
  }
}
