import type {
  DocumentBlock,
  ImageBlock,
  MessageParam,
  MessagesRequest,
  OtherBlock,
  RequestContentBlock,
  TextBlock,
  Tool,
  ToolChoice,
  ToolResultBlock,
} from '../anthropic/types.js';
import type {
  ChatAssistantMessage,
  ChatCompletionRequest,
  ChatContentPart,
  ChatFunctionTool,
  ChatImagePart,
  ChatMessage,
  ChatTextPart,
  ChatToolCall,
  ChatToolChoice,
  ChatToolMessage,
} from './types.js';
import { withJson } from '../json/encoded.js';
import { deepFreeze, derivedIfKnown } from '../json/raw-values.js';

export interface ToOpenAIRequestOptions {
  /** The model name sent upstream. */
  model: string;
  stream: boolean;
  maxTokensCap?: number;
}

const SEPARATOR = '\n\n';

/** Translates an Anthropic Messages request into a Chat Completions request; unknown fields are dropped. */
export function toOpenAIRequest(req: MessagesRequest, opts: ToOpenAIRequestOptions): ChatCompletionRequest {
  // The system prompt, the same on every request of a session, is joined and serialised once.
  const system = typeof req.system === 'object' ? derivedIfKnown(req.system, 'openai.system', translateSystem) : undefined;
  const messages: ChatMessage[] = [...(system ?? systemMessage(req.system))];
  // A session's earlier turns come again on every request: each is translated and serialised once.
  for (const message of req.messages) messages.push(...(derivedIfKnown(message, 'openai.message', translateTurn) ?? convertMessage(message)));

  const out: ChatCompletionRequest = {
    model: opts.model,
    messages,
    max_tokens: opts.maxTokensCap === undefined ? req.max_tokens : Math.min(req.max_tokens, opts.maxTokensCap),
  };
  // The same on every request of a session: translated and serialised once per distinct value.
  const tools = req.tools ? (derivedIfKnown(req.tools, 'openai.tools', (list) => withJson(deepFreeze(convertTools(list)))) ?? convertTools(req.tools)) : [];
  // Backends reject tool_choice / parallel_tool_calls without tools.
  if (tools.length > 0) {
    out.tools = tools;
    if (req.tool_choice) {
      out.tool_choice = convertToolChoice(req.tool_choice);
      if (req.tool_choice.type !== 'none' && req.tool_choice.disable_parallel_tool_use === true) {
        out.parallel_tool_calls = false;
      }
    }
  }
  if (req.stop_sequences && req.stop_sequences.length > 0) out.stop = req.stop_sequences;
  if (req.temperature !== undefined) out.temperature = req.temperature;
  if (req.top_p !== undefined) out.top_p = req.top_p;
  if (req.top_k !== undefined) out.top_k = req.top_k;
  if (opts.stream) {
    out.stream = true;
    out.stream_options = { include_usage: true };
  }
  return out;
}

function systemMessage(system: MessagesRequest['system']): ChatMessage[] {
  const text = typeof system === 'string' ? system : joinText(system ?? []);
  return text ? [{ role: 'system', content: text }] : [];
}

const translateSystem = (system: TextBlock[]): ChatMessage[] => deepFreeze(systemMessage(system).map(withJson));

/** A recognised turn's translation, shared by the requests that send it: frozen, its JSON recorded. */
const translateTurn = (message: MessageParam): ChatMessage[] => deepFreeze(convertMessage(message).map(withJson));

function convertMessage(message: MessageParam): ChatMessage[] {
  switch (message.role) {
    case 'system':
      return [{ role: 'system', content: contentText(message.content) }];
    case 'user':
      return convertUser(message.content);
    case 'assistant':
      return convertAssistant(message.content);
  }
}

/** Tool results first (they must follow the assistant's tool_calls), then the rest as one user message. */
function convertUser(content: MessageParam['content']): ChatMessage[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  const out: ChatMessage[] = [];
  const parts: ChatContentPart[] = [];
  const rest: ChatContentPart[] = [];
  for (const block of content) {
    if (block.type !== 'tool_result') {
      rest.push(...blockParts(block));
      continue;
    }
    const { message, images } = convertToolResult(block);
    out.push(message);
    if (images.length > 0) parts.push(textPart(`Images from tool result ${block.tool_use_id}:`), ...images);
  }
  parts.push(...rest);
  if (parts.length > 0) out.push({ role: 'user', content: simplify(parts) });
  return out;
}

function convertToolResult(block: ToolResultBlock): { message: ChatToolMessage; images: ChatImagePart[] } {
  const texts: string[] = [];
  const images: ChatImagePart[] = [];
  const content = block.content ?? '';
  if (typeof content === 'string') texts.push(content);
  else {
    for (const part of content.flatMap(blockParts)) {
      if (part.type === 'text') texts.push(part.text);
      else images.push(part);
    }
  }
  let text = texts.join(SEPARATOR);
  if (!text && images.length > 0) text = `[${images.length} image(s) attached in the next user message]`;
  if (block.is_error === true) text = text ? `[tool error] ${text}` : '[tool error]';
  return { message: { role: 'tool', tool_call_id: block.tool_use_id, content: text }, images };
}

function convertAssistant(content: MessageParam['content']): ChatMessage[] {
  if (typeof content === 'string') return content ? [{ role: 'assistant', content }] : [];
  const texts: string[] = [];
  const calls: ChatToolCall[] = [];
  for (const block of content) {
    if (block.type === 'tool_use') {
      calls.push({
        id: block.id,
        type: 'function',
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
      continue;
    }
    // Chat Completions assistant messages cannot carry images.
    for (const part of blockParts(block)) texts.push(part.type === 'text' ? part.text : '[image block omitted]');
  }
  const text = texts.join(SEPARATOR);
  if (!text && calls.length === 0) return [];
  const message: ChatAssistantMessage = { role: 'assistant', content: text || null };
  if (calls.length > 0) message.tool_calls = calls;
  return [message];
}

/** One content block as Chat content parts; thinking is dropped, nothing else is silently lost. */
function blockParts(block: RequestContentBlock): ChatContentPart[] {
  switch (block.type) {
    case 'text':
      return [textPart(block.text)];
    case 'image':
      return [imagePart(block)];
    case 'document':
      return documentParts(block);
    case 'thinking':
    case 'redacted_thinking':
      return [];
    case 'tool_use':
    case 'tool_result':
      // Only valid in assistant / user positions the callers handle themselves.
      return [textPart(`[${block.type} block omitted]`)];
    default:
      return [otherPart(block)];
  }
}

function otherPart(block: OtherBlock): ChatTextPart {
  return textPart(typeof block.text === 'string' ? block.text : `[${block.type} block omitted]`);
}

function documentParts(doc: DocumentBlock): ChatContentPart[] {
  const source = doc.source;
  const header = [doc.title ? `[document: ${doc.title}]` : '', doc.context ?? ''].filter(Boolean).join('\n');
  const withHeader = (body: string): ChatTextPart => textPart(header ? `${header}\n${body}` : body);
  switch (source.type) {
    case 'text':
      return [withHeader(source.data)];
    case 'content':
      if (typeof source.content === 'string') return [withHeader(source.content)];
      return [...(header ? [textPart(header)] : []), ...source.content.flatMap(blockParts)];
    case 'base64':
      if (source.media_type.startsWith('text/')) {
        return [withHeader(Buffer.from(source.data, 'base64').toString('utf8'))];
      }
      return [omittedDocument(doc.title ?? source.media_type)];
    case 'url':
      return [omittedDocument(doc.title ?? source.url)];
  }
}

function omittedDocument(label: string): ChatTextPart {
  return textPart(`[document: ${label} omitted: this backend cannot read documents]`);
}

function imagePart(block: ImageBlock): ChatImagePart {
  const source = block.source;
  const url = source.type === 'base64' ? `data:${source.media_type};base64,${source.data}` : source.url;
  return { type: 'image_url', image_url: { url } };
}

function textPart(text: string): ChatTextPart {
  return { type: 'text', text };
}

/** A plain string when there are only text parts; many backends accept nothing else. */
function simplify(parts: ChatContentPart[]): string | ChatContentPart[] {
  const texts: string[] = [];
  for (const part of parts) {
    if (part.type !== 'text') return parts;
    texts.push(part.text);
  }
  return texts.join(SEPARATOR);
}

function contentText(content: MessageParam['content']): string {
  if (typeof content === 'string') return content;
  return content
    .flatMap(blockParts)
    .map((part) => (part.type === 'text' ? part.text : '[image block omitted]'))
    .join(SEPARATOR);
}

function joinText(blocks: TextBlock[]): string {
  return blocks.map((block) => block.text).join(SEPARATOR);
}

/** Server tools (web search, ...) have a non-custom `type` and no input_schema; backends cannot run them. */
function convertTools(tools: Tool[]): ChatFunctionTool[] {
  return tools
    .filter((tool) => (tool.type === undefined || tool.type === 'custom') && tool.input_schema !== undefined)
    .map((tool) => ({
      type: 'function',
      function: {
        name: tool.name,
        ...(tool.description === undefined ? {} : { description: tool.description }),
        parameters: tool.input_schema,
      },
    }));
}

function convertToolChoice(choice: ToolChoice): ChatToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}
