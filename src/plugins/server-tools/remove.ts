import type { MessagesRequest, TextBlock, Tool, ToolChoice } from '../../anthropic/types.js';

/** A tool the API runs itself (`web_search_20250305`, `web_fetch_20250910`, `code_execution_…`): its `type` is not `custom`. */
export function isServerTool(tool: Tool): boolean {
  return tool.type !== undefined && tool.type !== 'custom';
}

export interface Removal {
  body: MessagesRequest;
  /** The removed tools' names, in request order. */
  removed: string[];
  /** Whether `tool_choice` named a removed tool (or required a tool and none is left) and was dropped. */
  droppedToolChoice: boolean;
}

/**
 * The request without its server tools, or undefined when it has none. Only then are the tools
 * copied: Claude Code sends two dozen client tools on every request.
 */
export function removeServerTools(body: MessagesRequest, systemNote: boolean): Removal | undefined {
  const tools = body.tools;
  if (!tools?.some(isServerTool)) return undefined;
  const kept: Tool[] = [];
  const removed: string[] = [];
  for (const tool of tools) {
    if (isServerTool(tool)) removed.push(tool.name);
    else kept.push(tool);
  }
  const next: MessagesRequest = { ...body, tools: kept };
  if (kept.length === 0) delete next.tools;
  const droppedToolChoice = body.tool_choice !== undefined && choiceBroken(body.tool_choice, removed, kept.length);
  if (droppedToolChoice) delete next.tool_choice;
  if (systemNote) next.system = withNote(body.system, note(removed));
  return { body: next, removed, droppedToolChoice };
}

function choiceBroken(choice: ToolChoice, removed: string[], left: number): boolean {
  if (choice.type === 'tool') return removed.includes(choice.name);
  return choice.type === 'any' && left === 0;
}

function note(removed: string[]): string {
  const names = removed.join(', ');
  return `Tools unavailable: ${names} cannot run through this backend and ${removed.length === 1 ? 'was' : 'were'} removed. If the task needs ${removed.length === 1 ? 'it' : 'them'}, say so; never invent ${removed.length === 1 ? 'its' : 'their'} results.`;
}

/** The note after the system prompt's last block, so the cached prefix of the prompt stays the same. */
function withNote(system: MessagesRequest['system'], text: string): MessagesRequest['system'] {
  if (system === undefined || system === '') return text;
  if (typeof system === 'string') return `${system}\n\n${text}`;
  const block: TextBlock = { type: 'text', text };
  return [...system, block];
}
