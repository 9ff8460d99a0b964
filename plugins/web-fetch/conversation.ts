import {
  MessageAccumulator,
  messageToEvents,
  type ContentBlockStart,
  type Message,
  type MessagesRequest,
  type ProviderResponse,
  type RequestContentBlock,
  type StreamEvent,
  type ToolResultBlock,
  type ToolUseBlock,
  type UpstreamCall,
  type Usage,
  type WebFetchToolResultBlock,
} from '../../src/plugin.js';
import type { FetchOutcome } from './fetch-page.js';
import { backendResult, errorBlock, resultBlock, serverToolUse, type WebFetchTurn } from './tool.js';

export type Invoke = (call: UpstreamCall) => Promise<ProviderResponse>;
/** Fetches one URL for the model (the guards live behind it). */
export type Fetcher = (url: string, turn: WebFetchTurn, signal: AbortSignal) => Promise<FetchOutcome>;

export interface Conversation {
  invoke: Invoke;
  fetch: Fetcher;
  /** Calls this plugin makes itself: passed straight through its own decorator. */
  own: WeakSet<UpstreamCall>;
  /** One line per fetch, for the log. */
  onFetch(url: string, outcome: FetchOutcome): void;
}

/**
 * Runs web_fetch for a backend that cannot: while the backend's answer ends with calls of the
 * tool (and nothing else the client must run), the proxy fetches, appends the assistant's
 * `tool_use` and a `tool_result` to the conversation and asks the backend again, at most
 * `maxUses + 1` more times. The client gets one answer, as a stream: the backend's blocks as
 * they arrive (indices renumbered), a `server_tool_use` and a `web_fetch_tool_result` block
 * for each fetch, then the model's final content; usage summed over the rounds. The first
 * round is asked before this returns, so a failure before its first event rejects here (and
 * failover can follow it); a later round's failure ends the stream with an error.
 */
export async function converse(call: UpstreamCall, turn: WebFetchTurn, conversation: Conversation): Promise<ProviderResponse> {
  // The whole conversation is kept for the next rounds: the cost of running the tool here.
  const request = call.takeRequest();
  const first = await conversation.invoke(ownCall(call, request, conversation.own));
  return { kind: 'stream', events: rounds(call, turn, conversation, request, first) };
}

interface Totals {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  fetches: number;
}

async function* rounds(call: UpstreamCall, turn: WebFetchTurn, conversation: Conversation, request: MessagesRequest, first: ProviderResponse): AsyncGenerator<StreamEvent> {
  const totals: Totals = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, fetches: 0 };
  let next = 0;
  let uses = 0;
  let response = first;
  let body = request;
  for (let round = 1; ; round++) {
    const accumulator = new MessageAccumulator();
    const indices = new Map<number, number>();
    const held = new Set<number>();
    let clientTools = false;
    for await (const event of eventsOf(response)) {
      accumulator.push(event);
      switch (event.type) {
        case 'message_start':
          if (round === 1) yield event;
          break;
        case 'content_block_start':
          if (isOurCall(event.content_block, turn)) held.add(event.index);
          else {
            if (event.content_block.type === 'tool_use') clientTools = true;
            indices.set(event.index, next++);
            yield { ...event, index: indices.get(event.index)! };
          }
          break;
        case 'content_block_delta':
        case 'content_block_stop':
          if (!held.has(event.index)) yield { ...event, index: indices.get(event.index) ?? event.index };
          break;
        case 'message_delta':
        case 'message_stop':
          // The client's answer ends once, after the last round.
          break;
        default:
          yield event;
      }
    }
    const message = accumulator.message();
    add(totals, message.usage);
    const calls = message.content.filter((block): block is ToolUseBlock => block.type === 'tool_use' && block.name === turn.name);
    if (calls.length === 0) {
      yield* end(message.stop_reason, totals);
      return;
    }
    const results: ToolResultBlock[] = [];
    for (const toolCall of calls) {
      const use = serverToolUse(toolCall);
      yield* blockEvents(next++, { type: 'server_tool_use', id: use.id, name: use.name, input: {} }, JSON.stringify(use.input));
      uses++;
      const { block, reason } = await runOne(use.input, use.id, uses, turn, conversation, call.signal);
      yield* blockEvents(next++, block);
      results.push(backendResult(toolCall.id, block, reason));
    }
    totals.fetches = Math.min(uses, turn.maxUses);
    // A call the client must run ends the answer there, as the API's does; so does the last round.
    if (clientTools || round > turn.maxUses + 1) {
      yield* end(clientTools ? 'tool_use' : 'end_turn', totals);
      return;
    }
    body = continued(body, message, results, turn);
    response = await conversation.invoke(ownCall(call, body, conversation.own));
  }
}

async function runOne(
  input: Record<string, unknown>,
  id: string,
  uses: number,
  turn: WebFetchTurn,
  conversation: Conversation,
  signal: AbortSignal,
): Promise<{ block: WebFetchToolResultBlock; reason?: string }> {
  if (uses > turn.maxUses) return { block: errorBlock(id, 'max_uses_exceeded'), reason: `at most ${turn.maxUses} fetches per request` };
  const url = input.url;
  if (typeof url !== 'string' || url === '') return { block: errorBlock(id, 'invalid_tool_input'), reason: 'the input needs a "url" string' };
  const outcome = await conversation.fetch(url, turn, signal);
  conversation.onFetch(url, outcome);
  return { block: resultBlock(id, outcome, turn, new Date()), ...(outcome.ok ? {} : { reason: outcome.reason }) };
}

/** The conversation with this round's answer and the tool results appended; a forced web_fetch is forced only once. */
function continued(body: MessagesRequest, message: Message, results: ToolResultBlock[], turn: WebFetchTurn): MessagesRequest {
  const content = message.content.filter((block) => block.type !== 'server_tool_use' && block.type !== 'web_fetch_tool_result') as RequestContentBlock[];
  const next: MessagesRequest = { ...body, messages: [...body.messages, { role: 'assistant', content }, { role: 'user', content: results }] };
  const choice = body.tool_choice;
  if (choice && (choice.type === 'any' || (choice.type === 'tool' && choice.name === turn.name))) {
    next.tool_choice = { type: 'auto', ...(choice.disable_parallel_tool_use === undefined ? {} : { disable_parallel_tool_use: choice.disable_parallel_tool_use }) };
  }
  return next;
}

function isOurCall(block: ContentBlockStart, turn: WebFetchTurn): boolean {
  return block.type === 'tool_use' && block.name === turn.name;
}

function* blockEvents(index: number, start: ContentBlockStart, json?: string): Generator<StreamEvent> {
  yield { type: 'content_block_start', index, content_block: start };
  if (json !== undefined) yield { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: json } };
  yield { type: 'content_block_stop', index };
}

function* end(stopReason: Message['stop_reason'], totals: Totals): Generator<StreamEvent> {
  const usage: Partial<Usage> & { output_tokens: number } = { input_tokens: totals.input, output_tokens: totals.output };
  if (totals.cacheRead > 0) usage.cache_read_input_tokens = totals.cacheRead;
  if (totals.cacheCreation > 0) usage.cache_creation_input_tokens = totals.cacheCreation;
  if (totals.fetches > 0) usage.server_tool_use = { web_search_requests: 0, web_fetch_requests: totals.fetches };
  yield { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage };
  yield { type: 'message_stop' };
}

function add(totals: Totals, usage: Usage): void {
  totals.input += usage.input_tokens;
  totals.output += usage.output_tokens;
  totals.cacheRead += usage.cache_read_input_tokens ?? 0;
  totals.cacheCreation += usage.cache_creation_input_tokens ?? 0;
}

function eventsOf(response: ProviderResponse): AsyncIterable<StreamEvent> | StreamEvent[] {
  return response.kind === 'stream' ? response.events : messageToEvents(response.message);
}

/** A call of the backend for one round; `takeRequest` hands over this round's request, which the conversation keeps. */
function ownCall(call: UpstreamCall, body: MessagesRequest, own: WeakSet<UpstreamCall>): UpstreamCall {
  const round: UpstreamCall = {
    request: body,
    takeRequest: () => body,
    model: call.model,
    stream: call.stream,
    signal: call.signal,
    context: call.context,
  };
  own.add(round);
  return round;
}
