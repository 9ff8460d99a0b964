// Ollama `/api/chat` stream lines, with the fields in the order Go's encoder writes them
// (model, created_at, message{role, content, thinking, tool_calls}, done, done_reason, metrics).

import { randomAlnum } from './random-ids.js';
import { estimateTokens, splitText } from './text-pieces.js';

export interface OllamaLineMessage {
  role: 'assistant';
  content: string;
  thinking?: string;
  tool_calls?: Array<{ id?: string; function: { index: number; name: string; arguments: Record<string, unknown> } }>;
}

export interface OllamaChatLine {
  model: string;
  created_at: string;
  message: OllamaLineMessage;
  done: boolean;
  done_reason?: string;
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
}

/** Any JSON object a line may hold: a chat line, `{error}`, or an oddity. */
export type OllamaLine = OllamaChatLine | { readonly [key: string]: unknown };

export interface OllamaLineOptions {
  model?: string;
  /** Text pieces, one line each (default 3). */
  pieces?: number;
  doneReason?: 'stop' | 'length';
  promptEvalCount?: number;
  evalCount?: number;
}

const DEFAULT_MODEL = 'qwen3-coder:30b';

/** JSON as Go's encoder writes it: `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c` etc. */
export function goJSON(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Go's RFC 3339 time with nanoseconds, e.g. `2025-07-07T20:22:19.184789123Z`. */
export function ollamaTime(date = new Date()): string {
  const nanos = String(Math.floor(Math.random() * 1e6)).padStart(6, '0');
  return date.toISOString().replace('Z', `${nanos}Z`);
}

export function ollamaLine(message: Omit<OllamaLineMessage, 'role'>, opts: OllamaLineOptions = {}): OllamaChatLine {
  return { model: opts.model ?? DEFAULT_MODEL, created_at: ollamaTime(), message: { role: 'assistant', ...message }, done: false };
}

/** The last line: an empty message, the reason and the metrics (durations in nanoseconds). */
export function ollamaDone(opts: OllamaLineOptions & { outputText?: string } = {}): OllamaChatLine {
  return {
    model: opts.model ?? DEFAULT_MODEL,
    created_at: ollamaTime(),
    message: { role: 'assistant', content: '' },
    done: true,
    done_reason: opts.doneReason ?? 'stop',
    total_duration: 4_883_583_458,
    load_duration: 1_334_875,
    prompt_eval_count: opts.promptEvalCount ?? 26,
    prompt_eval_duration: 342_546_000,
    eval_count: opts.evalCount ?? estimateTokens(opts.outputText ?? ''),
    eval_duration: 4_535_599_000,
  };
}

export function ollamaTextLines(text: string, opts: OllamaLineOptions = {}): OllamaChatLine[] {
  const pieces = splitText(text, opts.pieces ?? 3).map((content) => ollamaLine({ content }, opts));
  return [...pieces, ollamaDone({ ...opts, outputText: text })];
}

export function ollamaThinkingLines(thinking: string, text: string, opts: OllamaLineOptions = {}): OllamaChatLine[] {
  const thoughts = splitText(thinking, opts.pieces ?? 3).map((piece) => ollamaLine({ content: '', thinking: piece }, opts));
  return [...thoughts, ...ollamaTextLines(text, opts)];
}

/** Each call whole in its own line, as Ollama streams them; `done_reason` stays `stop`. */
export function ollamaToolCallLines(
  calls: Array<{ name: string; arguments: Record<string, unknown> }>,
  opts: OllamaLineOptions & { text?: string } = {},
): OllamaChatLine[] {
  const lead = opts.text ? [ollamaLine({ content: opts.text }, opts)] : [];
  const lines = calls.map((call, index) =>
    ollamaLine({ content: '', tool_calls: [{ id: `call_${randomAlnum(8).toLowerCase()}`, function: { index, ...call } }] }, opts),
  );
  return [...lead, ...lines, ollamaDone({ ...opts, outputText: JSON.stringify(calls) })];
}
