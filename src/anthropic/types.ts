// The Anthropic Messages API shapes the proxy speaks to clients.
// Fields we do not interpret are kept (index types on the outer request only) so that
// unknown fields sent by newer clients pass through pass-through providers untouched.

export interface CacheControl {
  type: 'ephemeral';
  ttl?: string;
  /** Beta `prompt-caching-scope-*`: e.g. `"global"`, a cache shared across requests. */
  scope?: string;
}

export interface TextBlock {
  type: 'text';
  text: string;
  cache_control?: CacheControl;
  citations?: unknown[] | null;
}

export interface Base64ImageSource {
  type: 'base64';
  media_type: string;
  data: string;
}
export interface UrlImageSource {
  type: 'url';
  url: string;
}
export interface ImageBlock {
  type: 'image';
  source: Base64ImageSource | UrlImageSource;
  cache_control?: CacheControl;
}

export interface DocumentBlock {
  type: 'document';
  source:
    | Base64ImageSource
    | UrlImageSource
    | { type: 'text'; media_type: string; data: string }
    | { type: 'content'; content: string | Array<TextBlock | ImageBlock> };
  title?: string;
  context?: string;
  cache_control?: CacheControl;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: unknown;
  cache_control?: CacheControl;
}

export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content?: string | Array<TextBlock | ImageBlock | DocumentBlock>;
  is_error?: boolean;
  cache_control?: CacheControl;
}

export interface ThinkingBlock {
  type: 'thinking';
  thinking: string;
  signature: string;
}

export interface RedactedThinkingBlock {
  type: 'redacted_thinking';
  data: string;
}

/** A block type this proxy does not know; kept so it is never silently lost. */
export interface OtherBlock {
  type: string;
  [key: string]: unknown;
}

export type RequestContentBlock =
  | TextBlock
  | ImageBlock
  | DocumentBlock
  | ToolUseBlock
  | ToolResultBlock
  | ThinkingBlock
  | RedactedThinkingBlock;

/** A server tool's call (`web_search`, `web_fetch`), run by the API (or by the proxy's `web-fetch` plugin), not by the client. */
export interface ServerToolUseBlock {
  type: 'server_tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}

/** `error_code` of a failed web fetch (the SDK's `WebFetchToolResultErrorCode`). */
export type WebFetchErrorCode =
  | 'invalid_tool_input'
  | 'url_too_long'
  | 'url_not_allowed'
  | 'url_not_in_prior_context'
  | 'url_not_accessible'
  | 'unsupported_content_type'
  | 'too_many_requests'
  | 'max_uses_exceeded'
  | 'unavailable'
  | 'content_too_large';

/** A fetched page: its text as a plain-text document. */
export interface WebFetchResult {
  type: 'web_fetch_result';
  url: string;
  /** ISO 8601. */
  retrieved_at: string | null;
  content: {
    type: 'document';
    source: { type: 'text'; media_type: 'text/plain'; data: string };
    title: string | null;
    citations: null;
  };
}

export interface WebFetchToolError {
  type: 'web_fetch_tool_result_error';
  error_code: WebFetchErrorCode;
}

/** What a `web_fetch` server tool call gave: the page, or an error (HTTP 200 either way). */
export interface WebFetchToolResultBlock {
  type: 'web_fetch_tool_result';
  tool_use_id: string;
  content: WebFetchResult | WebFetchToolError;
}

export type ResponseContentBlock =
  | TextBlock
  | ToolUseBlock
  | ThinkingBlock
  | RedactedThinkingBlock
  | ServerToolUseBlock
  | WebFetchToolResultBlock;

export type Role = 'user' | 'assistant' | 'system';

export interface MessageParam {
  role: Role;
  content: string | RequestContentBlock[];
}

export interface Tool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  cache_control?: CacheControl;
  /** Server tools (web_search_20250305, ...) carry a `type`. */
  type?: string;
  /** Beta tool search: loaded only once the model searches for it. */
  defer_loading?: boolean;
}

export type ToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

export type ThinkingConfig =
  | { type: 'enabled'; budget_tokens: number }
  | { type: 'disabled' }
  | { type: 'adaptive' };

export interface MessagesRequest {
  model: string;
  messages: MessageParam[];
  max_tokens: number;
  system?: string | TextBlock[];
  tools?: Tool[];
  tool_choice?: ToolChoice;
  thinking?: ThinkingConfig;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stream?: boolean;
  metadata?: { user_id?: string };
  output_config?: Record<string, unknown>;
  context_management?: Record<string, unknown>;
  [extra: string]: unknown;
}

export type StopReason =
  | 'end_turn'
  | 'max_tokens'
  | 'stop_sequence'
  | 'tool_use'
  | 'pause_turn'
  | 'refusal';

export interface Usage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** How many server tool calls the answer made. */
  server_tool_use?: { web_search_requests?: number; web_fetch_requests?: number };
}

export interface Message {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ResponseContentBlock[];
  stop_reason: StopReason | null;
  stop_sequence: string | null;
  usage: Usage;
}

// ---- Streaming events ----

export type ContentBlockStart =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, never> }
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'redacted_thinking'; data: string }
  | { type: 'server_tool_use'; id: string; name: string; input: Record<string, never> }
  | WebFetchToolResultBlock;

export type ContentDelta =
  | { type: 'text_delta'; text: string }
  | { type: 'input_json_delta'; partial_json: string }
  | { type: 'thinking_delta'; thinking: string }
  | { type: 'signature_delta'; signature: string };

export interface ErrorBody {
  type: ErrorType;
  message: string;
}

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error'
  | 'timeout_error';

export type StreamEvent =
  | { type: 'message_start'; message: Message }
  | { type: 'content_block_start'; index: number; content_block: ContentBlockStart }
  | { type: 'content_block_delta'; index: number; delta: ContentDelta }
  | { type: 'content_block_stop'; index: number }
  | {
      type: 'message_delta';
      delta: { stop_reason: StopReason | null; stop_sequence: string | null };
      usage: Partial<Usage> & { output_tokens: number };
    }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: ErrorBody };

export interface ErrorResponseBody {
  type: 'error';
  error: ErrorBody;
  request_id: string;
}

export interface ModelInfo {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
}
