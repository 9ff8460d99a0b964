// Ollama's native API shapes (api/types.go in github.com/ollama/ollama), as far as we use them.

/** `true`/`false`, or an effort level for models that support one (gpt-oss). */
export type OllamaThink = boolean | 'low' | 'medium' | 'high';

/** A Go duration (`"30m"`, `"1h"`, `"-1"` never unloads) or seconds. */
export type OllamaKeepAlive = string | number;

export interface OllamaToolCall {
  /** Set by Ollama 0.12+ (`call_xxxxxxxx`). */
  id?: string;
  function: {
    index?: number;
    name: string;
    /** An object, never a JSON string (unlike OpenAI). */
    arguments: Record<string, unknown>;
  };
}

export interface OllamaMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  thinking?: string;
  /** Base64 without a `data:` prefix. */
  images?: string[];
  tool_calls?: OllamaToolCall[];
  /** The tool this `role: "tool"` message answers; Ollama's templates name the result with it. */
  tool_name?: string;
  tool_call_id?: string;
}

export interface OllamaTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export interface OllamaOptions {
  num_ctx: number;
  num_predict?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop?: string[];
}

export interface OllamaChatRequest {
  model: string;
  messages: OllamaMessage[];
  stream: true;
  tools?: OllamaTool[];
  options: OllamaOptions;
  keep_alive?: OllamaKeepAlive;
  think?: OllamaThink;
}

/** One NDJSON line of a streamed `/api/chat` answer. Counts are omitted when zero. */
export interface OllamaChatChunk {
  model?: string;
  created_at?: string;
  message?: Partial<OllamaMessage>;
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  /** A failure after the stream began. */
  error?: string;
}

export interface OllamaTagsResponse {
  models?: Array<{ name?: string; model?: string }>;
}

export interface OllamaShowResponse {
  /** Ollama 0.6+: `completion`, `tools`, `thinking`, `vision`, `embedding`, `insert`. */
  capabilities?: string[];
  /** GGUF metadata: `general.architecture` names the prefix of `<arch>.context_length`, the trained window. */
  model_info?: Record<string, unknown>;
}

export interface OllamaEmbedResponse {
  embeddings?: number[][];
}
