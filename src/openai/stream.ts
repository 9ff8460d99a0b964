import type { StreamEvent } from '../anthropic/types.js';
import { ProxyError } from '../errors.js';
import { isDoneMarker, parseJSONEvent } from '../upstream/json-stream.js';
import { SSESplitter } from '../upstream/sse-reader.js';
import { upstreamErrorPayload } from './error-payload.js';
import { estimateTokens, newId, stopReason, toAnthropicUsage } from './response.js';
import type { ChatCompletionChunk, ChatToolCallDelta, ChatUsage, FinishReason } from './types.js';

export interface StreamTranslatorOptions {
  /** The model name reported to the client. */
  model: string;
  id?: string;
  /** Reported in message_start, before the backend's usage is known. */
  inputTokens?: number;
  /** Named in errors. */
  backend?: string;
}

export interface TranslateOptions extends StreamTranslatorOptions {
  /**
   * Whether the server wrote its end marker (`data: [DONE]`); read once, after the last chunk.
   * Content followed by `[DONE]` is a complete answer even without a `finish_reason`: only the
   * server writes that marker, a cut connection cannot.
   */
  sawDone?: () => boolean;
}

interface ToolDraft {
  /** The id the backend gave, used to tell apart calls that reuse one `index`. */
  upstreamId: string | undefined;
  name: string;
  args: string;
  emitted: number;
  state: 'pending' | 'open' | 'closed';
}

type OpenBlock = { kind: 'text' | 'thinking'; index: number } | { kind: 'tool'; index: number; tool: ToolDraft };

/**
 * Turns Chat Completions chunks into Anthropic stream events as they arrive.
 *
 * Anthropic blocks are strictly sequential while OpenAI tool calls are keyed by `index` and may
 * interleave. A tool's block opens when it is first seen if nothing else is in the way; a later
 * call is buffered (pending) while the open tool's arguments are not yet complete JSON, and its
 * block opens, flushing the buffer, once they are (or at finish). So sequential calls stream with
 * no delay and interleaved calls still come out whole, each in its own block. Text or reasoning
 * closes the open tool; arguments for a closed tool cannot be represented and throw a ProxyError
 * (the client then retries without streaming).
 */
export class OpenAIStreamTranslator {
  private readonly id: string;
  private readonly model: string;
  private readonly inputTokens: number;
  private readonly backend: string | undefined;
  private started = false;
  private finished = false;
  private nextIndex = 0;
  private open: OpenBlock | null = null;
  private readonly toolsByIndex = new Map<number, ToolDraft>();
  private readonly pending: ToolDraft[] = [];
  private sawToolUse = false;
  private finishReason: FinishReason | null = null;
  private usage: ChatUsage | undefined;
  private outputChars = 0;

  constructor(opts: StreamTranslatorOptions) {
    this.id = opts.id ?? newId('msg_');
    this.model = opts.model;
    this.inputTokens = opts.inputTokens ?? 0;
    this.backend = opts.backend;
  }

  /** True once a chunk carried a `finish_reason`: the upstream said the answer is over. */
  get finishedByUpstream(): boolean {
    return this.finishReason !== null;
  }

  /** True once any text, reasoning or tool call arrived. */
  get hasOutput(): boolean {
    return this.nextIndex > 0 || this.pending.length > 0;
  }

  push(chunk: ChatCompletionChunk): StreamEvent[] {
    if (this.finished) throw new Error('OpenAIStreamTranslator.push() called after finish()');
    const out: StreamEvent[] = [];
    this.start(out);
    if (chunk.usage) this.usage = chunk.usage;
    // Some servers omit `choices` on usage-only chunks, or `delta` on a final chunk.
    const choice = chunk.choices?.[0];
    if (!choice) {
      // LiteLLM, vLLM and gateways report a failure after the stream started as a chunk `{error}`.
      if (chunk.error !== undefined && chunk.error !== null) {
        throw upstreamErrorPayload(chunk.error, { backend: this.backend, where: 'reported an error in its stream', code: 'upstream_stream_error' });
      }
      return out;
    }
    const delta = choice.delta ?? {};
    const reasoning = delta.reasoning_content || delta.reasoning;
    if (reasoning) this.appendText('thinking', reasoning, out);
    const text = delta.content || delta.refusal;
    if (text) this.appendText('text', text, out);
    for (const call of delta.tool_calls ?? []) this.toolFragment(call, out);
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return out;
  }

  /** Closes what is open and ends the message; a second call returns nothing. */
  finish(): StreamEvent[] {
    if (this.finished) return [];
    this.finished = true;
    const out: StreamEvent[] = [];
    this.start(out);
    this.closeOpen(out);
    for (const tool of this.pending.splice(0)) {
      this.openTool(tool, out);
      this.closeOpen(out);
    }
    out.push(
      {
        type: 'message_delta',
        delta: { stop_reason: stopReason(this.finishReason, this.sawToolUse), stop_sequence: null },
        usage: this.usage ? toAnthropicUsage(this.usage) : { output_tokens: estimateTokens(this.outputChars) },
      },
      { type: 'message_stop' },
    );
    return out;
  }

  private start(out: StreamEvent[]): void {
    if (this.started) return;
    this.started = true;
    out.push(
      {
        type: 'message_start',
        message: {
          id: this.id,
          type: 'message',
          role: 'assistant',
          model: this.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: this.inputTokens, output_tokens: 0 },
        },
      },
      { type: 'ping' },
    );
  }

  private appendText(kind: 'text' | 'thinking', text: string, out: StreamEvent[]): void {
    this.outputChars += text.length;
    if (this.open?.kind !== kind) {
      this.closeOpen(out);
      const index = this.nextIndex++;
      this.open = { kind, index };
      out.push({
        type: 'content_block_start',
        index,
        content_block: kind === 'text' ? { type: 'text', text: '' } : { type: 'thinking', thinking: '', signature: '' },
      });
    }
    const index = this.open.index;
    out.push({
      type: 'content_block_delta',
      index,
      delta: kind === 'text' ? { type: 'text_delta', text } : { type: 'thinking_delta', thinking: text },
    });
  }

  private toolFragment(call: ChatToolCallDelta, out: StreamEvent[]): void {
    let tool = this.toolsByIndex.get(call.index);
    // Some backends send every call with the same index but its own id.
    if (!tool || (call.id && tool.upstreamId && call.id !== tool.upstreamId)) {
      tool = { upstreamId: call.id, name: '', args: '', emitted: 0, state: 'pending' };
      this.toolsByIndex.set(call.index, tool);
      this.pending.push(tool);
    }
    tool.upstreamId ??= call.id;
    if (!tool.name && call.function?.name) tool.name = call.function.name;
    const fragment = call.function?.arguments ?? '';
    if (fragment && tool.state === 'closed') {
      throw new ProxyError('The backend streamed tool-call arguments after that call had ended.', {
        code: 'upstream_bad_stream',
        type: 'api_error',
        status: 502,
      });
    }
    tool.args += fragment;
    this.outputChars += fragment.length;
    if (this.open?.kind === 'tool' && this.open.tool === tool) this.flushArgs(tool, this.open.index, out);
    this.openPending(out);
  }

  private openPending(out: StreamEvent[]): void {
    for (;;) {
      const next = this.pending[0];
      // A block needs its tool's name; the open tool may still grow until its JSON is complete.
      if (!next?.name) return;
      if (this.open?.kind === 'tool' && !isCompleteJson(this.open.tool.args)) return;
      this.closeOpen(out);
      this.pending.shift();
      this.openTool(next, out);
    }
  }

  private openTool(tool: ToolDraft, out: StreamEvent[]): void {
    const index = this.nextIndex++;
    tool.state = 'open';
    this.open = { kind: 'tool', index, tool };
    this.sawToolUse = true;
    this.outputChars += tool.name.length;
    out.push({
      type: 'content_block_start',
      index,
      content_block: { type: 'tool_use', id: tool.upstreamId || newId('toolu_'), name: tool.name, input: {} },
    });
    this.flushArgs(tool, index, out);
  }

  private flushArgs(tool: ToolDraft, index: number, out: StreamEvent[]): void {
    if (tool.emitted === tool.args.length) return;
    out.push({
      type: 'content_block_delta',
      index,
      delta: { type: 'input_json_delta', partial_json: tool.args.slice(tool.emitted) },
    });
    tool.emitted = tool.args.length;
  }

  private closeOpen(out: StreamEvent[]): void {
    if (!this.open) return;
    if (this.open.kind === 'tool') this.open.tool.state = 'closed';
    out.push({ type: 'content_block_stop', index: this.open.index });
    this.open = null;
  }
}

function isCompleteJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Yields each chunk's events as soon as it arrives; an upstream error propagates without a
 * message_stop. The message ends only when the upstream said so (a `finish_reason`, or `[DONE]`
 * after some output): a body that just stops is an incomplete answer, and an error.
 */
export async function* translateOpenAIStream(chunks: AsyncIterable<ChatCompletionChunk>, opts: TranslateOptions): AsyncIterable<StreamEvent> {
  const translator = new OpenAIStreamTranslator(opts);
  // for…of, not yield*: yield* of an array in an async generator wraps every element in promises.
  for await (const chunk of chunks) for (const event of translator.push(chunk)) yield event;
  for (const event of finished(translator, opts.sawDone?.() === true, opts.backend)) yield event;
}

/**
 * translateOpenAIStream of an OpenAI event stream's bytes, read in one loop: each chunk split
 * into events, parsed and translated where it arrives, with no async generator between the
 * stages (each would cost its promises on every event). The same events and errors as
 * `translateOpenAIStream(parseJSONEvents(readSSE(body)))`.
 */
export async function* translateOpenAISSE(body: AsyncIterable<Uint8Array>, opts: StreamTranslatorOptions): AsyncIterable<StreamEvent> {
  const translator = new OpenAIStreamTranslator(opts);
  const splitter = new SSESplitter({ backend: opts.backend });
  let sawDone = false;
  /** The events one server-sent event makes, or undefined at the end marker. */
  const eventsOf = (data: string): readonly StreamEvent[] | undefined => {
    if (isDoneMarker(data)) {
      sawDone = true;
      return undefined;
    }
    const chunk = parseJSONEvent<ChatCompletionChunk>(data, opts.backend);
    return chunk === undefined ? NO_EVENTS : translator.push(chunk);
  };
  read: for await (const bytes of body) {
    for (const { data } of splitter.push(bytes)) {
      const events = eventsOf(data);
      if (!events) break read;
      for (const event of events) yield event;
    }
  }
  // What a clean end leaves unterminated (`data: [DONE]` without its blank line).
  if (!sawDone) {
    for (const { data } of splitter.end()) {
      const events = eventsOf(data);
      if (!events) break;
      for (const event of events) yield event;
    }
  }
  for (const event of finished(translator, sawDone, opts.backend)) yield event;
}

const NO_EVENTS: readonly StreamEvent[] = Object.freeze([]);

/** The stream's last events, once the upstream's have all been read; an error when it never said it was done. */
function finished(translator: OpenAIStreamTranslator, sawDone: boolean, backend: string | undefined): StreamEvent[] {
  if (!translator.finishedByUpstream && !(translator.hasOutput && sawDone)) throw incomplete(translator.hasOutput, backend);
  return translator.finish();
}

function incomplete(hasOutput: boolean, backend: string | undefined): ProxyError {
  const message = hasOutput
    ? 'The backend stream ended before its final chunk (no finish_reason, no [DONE]): the answer is incomplete.'
    : 'The backend answered HTTP 200 with an empty event stream (no content, no finish_reason).';
  return new ProxyError(message, {
    code: hasOutput ? 'upstream_incomplete' : 'upstream_empty',
    type: 'api_error',
    status: 502,
    ...(backend === undefined ? {} : { backend }),
    recommendations: [
      hasOutput
        ? 'retry; if it keeps happening, check the backend log and anything between the proxy and the backend (a tunnel or gateway that cuts long responses)'
        : 'check that the backend URL points at an OpenAI-compatible API and the backend log for a failed generation',
    ],
  });
}
