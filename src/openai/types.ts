// The OpenAI Chat Completions shapes the proxy sends to and reads from OpenAI-compatible backends.

export interface ChatTextPart {
  type: 'text';
  text: string;
}

export interface ChatImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

export type ChatContentPart = ChatTextPart | ChatImagePart;

export interface ChatToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatSystemMessage {
  role: 'system';
  content: string | ChatTextPart[];
  name?: string;
}

export interface ChatUserMessage {
  role: 'user';
  content: string | ChatContentPart[];
  name?: string;
}

export interface ChatAssistantMessage {
  role: 'assistant';
  content: string | ChatTextPart[] | null;
  tool_calls?: ChatToolCall[];
  name?: string;
}

export interface ChatToolMessage {
  role: 'tool';
  tool_call_id: string;
  content: string | ChatTextPart[];
}

export type ChatMessage = ChatSystemMessage | ChatUserMessage | ChatAssistantMessage | ChatToolMessage;

export interface ChatFunctionTool {
  type: 'function';
  function: {
    name: string;
    description?: string;
    parameters?: Record<string, unknown>;
    strict?: boolean;
  };
}

export type ChatToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; function: { name: string } };

export interface ChatCompletionRequest {
  model: string;
  messages: ChatMessage[];
  tools?: ChatFunctionTool[];
  tool_choice?: ChatToolChoice;
  parallel_tool_calls?: boolean;
  stop?: string | string[];
  max_tokens?: number;
  max_completion_tokens?: number;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  temperature?: number;
  top_p?: number;
  /** Not in the OpenAI API, but vLLM, llama.cpp and others accept it. */
  top_k?: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
}

export interface ChatResponseMessage {
  role: 'assistant';
  content: string | null;
  tool_calls?: ChatToolCall[] | null;
  refusal?: string | null;
  /** DeepSeek, vLLM (older), SGLang, llama.cpp. */
  reasoning_content?: string | null;
  /** vLLM (newer), OpenRouter and others. */
  reasoning?: string | null;
}

export interface ChatCompletionChoice {
  index: number;
  message: ChatResponseMessage;
  finish_reason: FinishReason | null;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: ChatCompletionChoice[];
  usage?: ChatUsage | null;
  system_fingerprint?: string | null;
  /** Gateways (LiteLLM, one-api) answer some failures with HTTP 200 and an error body. */
  error?: unknown;
}

export interface ChatToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionDelta {
  role?: 'assistant';
  content?: string | null;
  refusal?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: ChatToolCallDelta[];
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: ChatCompletionDelta;
  finish_reason: FinishReason | null;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  /** Empty on the usage-only chunk sent last when `stream_options.include_usage` is set. */
  choices: ChatCompletionChunkChoice[];
  usage?: ChatUsage | null;
  /** A failure after the stream started: `{error:{message,type,code}}` (LiteLLM, vLLM) or `{error:"..."}` (TGI). */
  error?: unknown;
}
