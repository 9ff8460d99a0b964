import type { MessageParam, MessagesRequest, RequestContentBlock, ToolResultBlock } from '../../src/plugin.js';
import { backendResult } from './tool.js';

/** A block as it arrives from the client: the server blocks are not request block types. */
interface LooseBlock {
  type: string;
  id?: unknown;
  name?: unknown;
  input?: unknown;
  tool_use_id?: unknown;
  content?: unknown;
}

/**
 * Earlier turns in which the proxy ran web_fetch come back from the client as the API shaped
 * them: `server_tool_use` and `web_fetch_tool_result` inside the assistant message. A backend
 * knows only tool calls and their results, so each such message becomes what the backend was
 * given at the time: the assistant's `tool_use`, a user message with the `tool_result`, then the
 * rest of the assistant's message. Messages without them are kept as they are (and the array is
 * not copied when there are none).
 */
export function historyForBackend(body: MessagesRequest, tool: string): MessagesRequest {
  if (!body.messages.some((message) => hasServerBlocks(message, tool))) return body;
  const messages: MessageParam[] = [];
  const made = new WeakSet<MessageParam>();
  for (const message of body.messages) {
    if (!hasServerBlocks(message, tool)) push(messages, message, made);
    else {
      for (const part of split(message.content as LooseBlock[], tool)) {
        made.add(part);
        push(messages, part, made);
      }
    }
  }
  return { ...body, messages };
}

function hasServerBlocks(message: MessageParam, tool: string): boolean {
  if (message.role !== 'assistant' || typeof message.content === 'string') return false;
  return (message.content as LooseBlock[]).some((block) => isOurUse(block, tool) || block.type === 'web_fetch_tool_result');
}

function isOurUse(block: LooseBlock, tool: string): boolean {
  return block.type === 'server_tool_use' && block.name === tool;
}

function split(content: LooseBlock[], tool: string): MessageParam[] {
  const out: MessageParam[] = [];
  let assistant: RequestContentBlock[] = [];
  let results: ToolResultBlock[] = [];
  const flushAssistant = () => {
    if (assistant.length > 0) out.push({ role: 'assistant', content: assistant });
    assistant = [];
  };
  const flushResults = () => {
    if (results.length > 0) out.push({ role: 'user', content: results });
    results = [];
  };
  for (const block of content) {
    if (block.type === 'web_fetch_tool_result') {
      flushAssistant();
      results.push(toolResult(block));
      continue;
    }
    flushResults();
    if (isOurUse(block, tool)) assistant.push({ type: 'tool_use', id: String(block.id), name: tool, input: block.input ?? {} });
    else assistant.push(block as RequestContentBlock);
  }
  flushAssistant();
  flushResults();
  return out;
}

function toolResult(block: LooseBlock): ToolResultBlock {
  const id = String(block.tool_use_id);
  const content = block.content as { type?: unknown; error_code?: unknown; url?: unknown; content?: { title?: unknown; source?: { data?: unknown } } } | undefined;
  if (content?.type === 'web_fetch_result') {
    const data = content.content?.source?.data;
    const title = content.content?.title;
    return backendResult(id, {
      type: 'web_fetch_tool_result',
      tool_use_id: id,
      content: {
        type: 'web_fetch_result',
        url: String(content.url),
        retrieved_at: null,
        content: { type: 'document', source: { type: 'text', media_type: 'text/plain', data: typeof data === 'string' ? data : '' }, title: typeof title === 'string' ? title : null, citations: null },
      },
    });
  }
  return { type: 'tool_result', tool_use_id: id, is_error: true, content: `web_fetch failed: ${typeof content?.error_code === 'string' ? content.error_code : 'unavailable'}` };
}

/**
 * A split's part and the client's next message of the same role (its tool results after ours)
 * become one message, tool results first; the client's own messages are never joined.
 */
function push(messages: MessageParam[], message: MessageParam, made: WeakSet<MessageParam>): void {
  const last = messages.at(-1);
  if (!last || last.role !== message.role || message.role === 'system' || !(made.has(last) || made.has(message))) {
    messages.push(message);
    return;
  }
  const joined: MessageParam = { role: last.role, content: [...blocks(last.content), ...blocks(message.content)] };
  made.add(joined);
  messages[messages.length - 1] = joined;
}

function blocks(content: MessageParam['content']): RequestContentBlock[] {
  return typeof content === 'string' ? (content ? [{ type: 'text', text: content }] : []) : content;
}
