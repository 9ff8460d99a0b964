import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { anthropicText, anthropicTextEvents } from './anthropic-builders.js';
import { parseBody, readBody } from './request-body.js';

/**
 * An Anthropic-format server whose request schema forbids what it does not know, as a pydantic
 * model with `extra="forbid"` does: an unknown field anywhere is a 400 "<path>: Extra inputs are
 * not permitted", a role other than user/assistant or a block type it lacks (redacted_thinking,
 * which older vLLM releases refuse) is a 400 too, and so is an `anthropic-beta` it does not know.
 * It answers `reply` otherwise, as a stream or a JSON message as asked.
 */
export interface StrictUpstream {
  url: string;
  /** Every Messages request, accepted or refused. */
  received: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

const TOP = ['model', 'messages', 'max_tokens', 'system', 'tools', 'tool_choice', 'metadata', 'stream', 'temperature', 'top_p', 'top_k', 'stop_sequences', 'thinking'];
const TOOL = ['name', 'description', 'input_schema', 'cache_control', 'type'];
const CACHE_CONTROL = ['type', 'ttl'];
const BLOCKS: Record<string, string[]> = {
  text: ['type', 'text', 'cache_control', 'citations'],
  image: ['type', 'source', 'cache_control'],
  tool_use: ['type', 'id', 'name', 'input', 'cache_control'],
  tool_result: ['type', 'tool_use_id', 'content', 'is_error', 'cache_control'],
  thinking: ['type', 'thinking', 'signature'],
};

type Json = Record<string, unknown>;
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function extra(record: Json, allowed: string[], at: string): string | undefined {
  const key = Object.keys(record).find((k) => !allowed.includes(k));
  return key === undefined ? undefined : `${at}${at ? '.' : ''}${key}: Extra inputs are not permitted`;
}

function checkBlock(block: unknown, at: string): string | undefined {
  if (!isRecord(block)) return `${at}: Input should be a valid dictionary`;
  const allowed = BLOCKS[String(block.type)];
  if (!allowed) return `${at}: Input tag '${String(block.type)}' found using 'type' does not match any of the expected tags: ${Object.keys(BLOCKS).join(', ')}`;
  const cache = block.cache_control;
  return extra(block, allowed, at) ?? (isRecord(cache) ? extra(cache, CACHE_CONTROL, `${at}.cache_control`) : undefined);
}

function check(body: Json, betas: string | undefined, acceptedBetas: readonly string[]): string | undefined {
  for (const beta of (betas ?? '').split(',').map((b) => b.trim()).filter(Boolean)) {
    if (!acceptedBetas.includes(beta)) return `Unexpected value(s) \`${beta}\` for the \`anthropic-beta\` header`;
  }
  const top = extra(body, TOP, '');
  if (top) return top;
  if (Array.isArray(body.system)) {
    for (const [i, block] of body.system.entries()) {
      const problem = checkBlock(block, `system.${i}`);
      if (problem) return problem;
    }
  }
  for (const [i, tool] of (Array.isArray(body.tools) ? body.tools : []).entries()) {
    const at = `tools.${i}`;
    const problem = isRecord(tool) ? (extra(tool, TOOL, at) ?? (isRecord(tool.cache_control) ? extra(tool.cache_control, CACHE_CONTROL, `${at}.cache_control`) : undefined)) : `${at}: Input should be a valid dictionary`;
    if (problem) return problem;
  }
  for (const [i, message] of (Array.isArray(body.messages) ? body.messages : []).entries()) {
    if (!isRecord(message)) return `messages.${i}: Input should be a valid dictionary`;
    if (message.role !== 'user' && message.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (!Array.isArray(message.content)) continue;
    for (const [j, block] of message.content.entries()) {
      const problem = checkBlock(block, `messages.${i}.content.${j}`);
      if (problem) return problem;
    }
  }
  return undefined;
}

export async function startStrictUpstream(reply: string, opts: { betas?: readonly string[] } = {}): Promise<StrictUpstream> {
  const received: StrictUpstream['received'] = [];
  const server: Server = createServer((req, res) => {
    if (req.method !== 'POST') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ type: 'error', error: { type: 'not_found_error', message: 'Not Found' } }));
      return;
    }
    void readBody(req).then((raw) => {
      const parsed = parseBody(raw);
      const body = isRecord(parsed) ? parsed : {};
      received.push({ headers: req.headers, body });
      const beta = req.headers['anthropic-beta'];
      const problem = check(body, typeof beta === 'string' ? beta : undefined, opts.betas ?? []);
      if (problem) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: problem } }));
        return;
      }
      if (body.stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(anthropicText(reply)));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const event of anthropicTextEvents(reply)) res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
