import { ProxyError, translateOpenAIStream, type ChatCompletionChunk, type ChatToolCallDelta, type FinishReason, type StreamEvent } from '../../src/plugin.js';
import type { OllamaChatChunk } from './types.js';

export interface OllamaStreamOptions {
  backend: string;
  /** The model name reported to the client. */
  model: string;
}

/**
 * Ollama's NDJSON lines -> Anthropic events, each line's events yielded as soon as it arrives.
 * Every line becomes one Chat Completions chunk for the shared OpenAI translator, which already
 * sequences text, thinking and tool blocks and infers `tool_use` (Ollama says `stop` after tool
 * calls). Tool calls arrive whole, so each opens its block with its complete arguments at once.
 */
export function translateOllamaStream(lines: AsyncIterable<string>, opts: OllamaStreamOptions): AsyncIterable<StreamEvent> {
  return translateOpenAIStream(toChatChunks(lines, opts.backend), { model: opts.model });
}

async function* toChatChunks(lines: AsyncIterable<string>, backend: string): AsyncIterable<ChatCompletionChunk> {
  let toolIndex = 0;
  for await (const line of lines) {
    const chunk = parseLine(line, backend);
    if (typeof chunk.error === 'string') {
      throw new ProxyError(`Ollama failed while answering: ${chunk.error}`, {
        code: 'upstream_stream_error',
        type: 'api_error',
        status: 502,
        backend,
        recommendations: ['retry; if it keeps failing, check `ollama ps` and the Ollama server log (out of memory is common)'],
      });
    }
    const message = chunk.message ?? {};
    const toolCalls: ChatToolCallDelta[] = (message.tool_calls ?? []).map((call) => ({
      // Our own running index: Ollama's restarts per chunk on some versions, and every call is whole.
      index: toolIndex++,
      ...(call.id ? { id: call.id } : {}),
      type: 'function',
      function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments ?? {}) },
    }));
    yield {
      id: 'ollama',
      object: 'chat.completion.chunk',
      created: 0,
      model: chunk.model ?? '',
      choices: [
        {
          index: 0,
          delta: { content: message.content ?? null, reasoning: message.thinking ?? null, tool_calls: toolCalls },
          finish_reason: chunk.done ? finishReason(chunk.done_reason) : null,
        },
      ],
      usage: chunk.done ? { prompt_tokens: chunk.prompt_eval_count ?? 0, completion_tokens: chunk.eval_count ?? 0 } : null,
    };
    if (chunk.done) return;
  }
  throw new ProxyError('The Ollama stream ended before its final `done` line (the connection closed early).', {
    code: 'upstream_incomplete',
    type: 'api_error',
    status: 502,
    backend,
    recommendations: ['retry; if it keeps happening, check the Ollama server log (the model runner may have crashed)'],
  });
}

function finishReason(reason: string | undefined): FinishReason {
  return reason === 'length' ? 'length' : 'stop';
}

function parseLine(line: string, backend: string): OllamaChatChunk {
  try {
    const value: unknown = JSON.parse(line);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value;
  } catch {
    // reported below
  }
  throw new ProxyError(`Ollama streamed a line that is not a JSON object: ${JSON.stringify(line.slice(0, 200))}`, {
    code: 'upstream_malformed',
    type: 'api_error',
    status: 502,
    backend,
    recommendations: ["check that the backend URL points at Ollama's native API (http://host:11434, without /v1)"],
  });
}
