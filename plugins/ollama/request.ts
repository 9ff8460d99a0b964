import {
  parseToolArguments,
  toOpenAIRequest,
  type ChatContentPart,
  type ChatMessage,
  type ChatTextPart,
  type MessagesRequest,
  type ThinkingConfig,
} from '../../src/plugin.js';
import type { OllamaChatRequest, OllamaKeepAlive, OllamaMessage, OllamaThink } from './types.js';

export interface ToOllamaRequestOptions {
  model: string;
  numCtx: number;
  maxTokensCap?: number;
  keepAlive?: OllamaKeepAlive;
  /** The backend's `think` option; unset follows the request's `thinking`. */
  think?: OllamaThink;
  /** The model's capabilities from `/api/show`, when known. */
  capabilities?: readonly string[];
}

const SEPARATOR = '\n\n';
const DATA_URL = /^data:[^;,]+;base64,/;

/**
 * Anthropic Messages -> Ollama `/api/chat`. Ollama's chat format is OpenAI's with objects for
 * tool arguments, base64 `images` on the message and `tool_name` on tool results, so the OpenAI
 * translation (system messages in place, documents, tool results, nothing silently dropped but
 * thinking) is reused and then reshaped.
 */
export function toOllamaRequest(req: MessagesRequest, opts: ToOllamaRequestOptions): OllamaChatRequest {
  const chat = toOpenAIRequest(req, { model: opts.model, stream: false, maxTokensCap: opts.maxTokensCap });
  const toolNames = new Map<string, string>();
  const out: OllamaChatRequest = {
    model: opts.model,
    messages: chat.messages.map((message) => toOllamaMessage(message, toolNames)),
    stream: true,
    options: { num_ctx: opts.numCtx, num_predict: chat.max_tokens },
  };
  // Ollama has no tool_choice: "none" is honoured by not offering the tools.
  if (chat.tools && chat.tool_choice !== 'none') out.tools = chat.tools;
  if (chat.temperature !== undefined) out.options.temperature = chat.temperature;
  if (chat.top_p !== undefined) out.options.top_p = chat.top_p;
  if (chat.top_k !== undefined) out.options.top_k = chat.top_k;
  if (req.stop_sequences && req.stop_sequences.length > 0) out.options.stop = req.stop_sequences;
  if (opts.keepAlive !== undefined) out.keep_alive = opts.keepAlive;
  const think = thinkValue(opts.think, req.thinking, opts.capabilities);
  if (think !== undefined) out.think = think;
  return out;
}

/**
 * The configured value wins. Otherwise `disabled` -> false and `enabled`/`adaptive` -> true, but
 * true only for a model known to think: Ollama answers 400 to `think: true` on any other model,
 * and leaving `think` out already makes a thinking model think.
 */
export function thinkValue(
  configured: OllamaThink | undefined,
  requested: ThinkingConfig | undefined,
  capabilities: readonly string[] | undefined,
): OllamaThink | undefined {
  if (configured !== undefined) return configured;
  if (!requested) return undefined;
  if (requested.type === 'disabled') return false;
  return capabilities?.includes('thinking') ? true : undefined;
}

function toOllamaMessage(message: ChatMessage, toolNames: Map<string, string>): OllamaMessage {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: textOf(message.content) };
    case 'user':
      return userMessage(message.content);
    case 'assistant': {
      const out: OllamaMessage = { role: 'assistant', content: textOf(message.content ?? '') };
      if (message.tool_calls?.length) {
        out.tool_calls = message.tool_calls.map((call) => {
          toolNames.set(call.id, call.function.name);
          return { id: call.id, function: { name: call.function.name, arguments: parseToolArguments(call.function.arguments) } };
        });
      }
      return out;
    }
    case 'tool': {
      const out: OllamaMessage = { role: 'tool', content: textOf(message.content) };
      const name = toolNames.get(message.tool_call_id);
      if (name !== undefined) out.tool_name = name;
      out.tool_call_id = message.tool_call_id;
      return out;
    }
  }
}

function userMessage(content: string | ChatContentPart[]): OllamaMessage {
  if (typeof content === 'string') return { role: 'user', content };
  const texts: string[] = [];
  const images: string[] = [];
  for (const part of content) {
    if (part.type === 'text') texts.push(part.text);
    else if (DATA_URL.test(part.image_url.url)) images.push(part.image_url.url.replace(DATA_URL, ''));
    else texts.push(`[image ${part.image_url.url} omitted: Ollama accepts only inline (base64) images]`);
  }
  const out: OllamaMessage = { role: 'user', content: texts.join(SEPARATOR) };
  if (images.length > 0) out.images = images;
  return out;
}

function textOf(content: string | ChatTextPart[]): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join(SEPARATOR);
}
