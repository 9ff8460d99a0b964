import type {
  MessagesRequest,
  ServerToolUseBlock,
  Tool,
  ToolResultBlock,
  ToolUseBlock,
  WebFetchErrorCode,
  WebFetchToolResultBlock,
} from '../../src/plugin.js';
import type { DomainRules } from './domains.js';
import type { FetchOutcome } from './fetch-page.js';

/** What the proxy runs for one request: the tool the model calls, and its limits. */
export interface WebFetchTurn {
  /** The tool's name as the model calls it (`web_fetch`). */
  name: string;
  maxUses: number;
  rules: DomainRules;
  /** `max_content_tokens` of the definition, as characters (about four a token). */
  maxContentChars?: number;
}

/** The definition fields of a `web_fetch_*` server tool this plugin reads. */
interface WebFetchDefinition extends Tool {
  max_uses?: number;
  allowed_domains?: string[] | null;
  blocked_domains?: string[] | null;
  max_content_tokens?: number;
}

export function isWebFetchServerTool(tool: Tool): boolean {
  return typeof tool.type === 'string' && tool.type.startsWith('web_fetch_');
}

/** The turn a `web_fetch_*` definition asks for, and the client-style definition the backend gets in its place. */
export function clientTool(tool: Tool, defaultMaxUses: number): { turn: WebFetchTurn; definition: Tool } {
  const server = tool as WebFetchDefinition;
  const turn: WebFetchTurn = {
    name: tool.name,
    maxUses: typeof server.max_uses === 'number' && server.max_uses > 0 ? server.max_uses : defaultMaxUses,
    rules: { allowed: server.allowed_domains ?? undefined, blocked: server.blocked_domains ?? undefined },
    ...(typeof server.max_content_tokens === 'number' && server.max_content_tokens > 0 ? { maxContentChars: server.max_content_tokens * 4 } : {}),
  };
  const definition: Tool = {
    name: tool.name,
    description:
      'Fetch a web page or text document by its URL (http or https) and return its text. Use it for URLs the user gave or that earlier results contain; do not make up URLs.',
    input_schema: {
      type: 'object',
      properties: { url: { type: 'string', description: 'The absolute http:// or https:// URL to fetch' } },
      required: ['url'],
    },
    ...(tool.cache_control ? { cache_control: tool.cache_control } : {}),
  };
  return { turn, definition };
}

/** The request with the web_fetch server tool replaced by its client-style definition, or undefined without one. */
export function withClientTool(body: MessagesRequest, defaultMaxUses: number): { body: MessagesRequest; turn: WebFetchTurn } | undefined {
  const tools = body.tools;
  const at = tools?.findIndex(isWebFetchServerTool) ?? -1;
  if (!tools || at < 0) return undefined;
  const { turn, definition } = clientTool(tools[at]!, defaultMaxUses);
  const next = [...tools];
  next[at] = definition;
  return { body: { ...body, tools: next }, turn };
}

/** The id the client sees: a server tool's (`srvtoolu_…`), made from the backend's own. */
export function serverToolId(id: string): string {
  return id.startsWith('srvtoolu_') ? id : `srvtoolu_${id.replace(/^(?:toolu_|call_)/, '')}`;
}

export function serverToolUse(call: ToolUseBlock): ServerToolUseBlock {
  const input = call.input !== null && typeof call.input === 'object' && !Array.isArray(call.input) ? (call.input as Record<string, unknown>) : {};
  return { type: 'server_tool_use', id: serverToolId(call.id), name: call.name, input };
}

/** The API's result block for a fetch. */
export function resultBlock(toolUseId: string, outcome: FetchOutcome, turn: WebFetchTurn, retrievedAt: Date): WebFetchToolResultBlock {
  if (!outcome.ok) return errorBlock(toolUseId, outcome.code);
  return {
    type: 'web_fetch_tool_result',
    tool_use_id: toolUseId,
    content: {
      type: 'web_fetch_result',
      url: outcome.url,
      retrieved_at: retrievedAt.toISOString(),
      content: { type: 'document', source: { type: 'text', media_type: 'text/plain', data: pageText(outcome, turn) }, title: outcome.title, citations: null },
    },
  };
}

export function errorBlock(toolUseId: string, code: WebFetchErrorCode): WebFetchToolResultBlock {
  return { type: 'web_fetch_tool_result', tool_use_id: toolUseId, content: { type: 'web_fetch_tool_result_error', error_code: code } };
}

/** What the backend's model reads as the tool's result: the page's text, or why there is none. */
export function backendResult(toolUseId: string, block: WebFetchToolResultBlock, reason?: string): ToolResultBlock {
  const content = block.content;
  if (content.type === 'web_fetch_tool_result_error') {
    return { type: 'tool_result', tool_use_id: toolUseId, is_error: true, content: `web_fetch failed: ${content.error_code}${reason ? ` (${reason})` : ''}` };
  }
  const heading = [`URL: ${content.url}`, ...(content.content.title ? [`Title: ${content.content.title}`] : [])].join('\n');
  return { type: 'tool_result', tool_use_id: toolUseId, content: `${heading}\n\n${content.content.source.data}` };
}

function pageText(outcome: Extract<FetchOutcome, { ok: true }>, turn: WebFetchTurn): string {
  let text = outcome.text;
  let cut = outcome.truncated;
  if (turn.maxContentChars !== undefined && text.length > turn.maxContentChars) {
    text = text.slice(0, turn.maxContentChars);
    cut = true;
  }
  return cut ? `${text}\n\n[content cut: the page is longer than the proxy reads]` : text;
}
