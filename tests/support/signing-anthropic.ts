import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An Anthropic-format upstream that signs its thinking blocks (an HMAC of the thinking text with
 * its own secret) and, like the real API, refuses a request carrying a thinking block it did not
 * sign ("Invalid `signature` in `thinking` block"), and one whose last assistant turn with a
 * tool_use does not start with a thinking block while thinking is on.
 */
export interface SigningUpstream {
  url: string;
  /** The bodies of the Messages requests it accepted or refused, parsed. */
  received: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

type Block = { type: string; thinking?: string; signature?: string; data?: string };
type Turn = { role: string; content: string | Block[] };

export async function startSigningUpstream(secret: string): Promise<SigningUpstream> {
  const sign = (text: string) => createHmac('sha256', secret).update(text).digest('base64');
  const received: Array<Record<string, unknown>> = [];
  let served = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'GET') {
      // The model list the proxy probes.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ data: [{ id: 'claude-sonnet-4-5', type: 'model' }], has_more: false }));
      return;
    }
    void readJson(req).then((body) => {
      received.push(body);
      const refusal = check(body, sign);
      if (refusal) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: refusal }, request_id: 'req_sign' }));
        return;
      }
      const thinking = `${secret} thought ${++served}`;
      const message = {
        id: `msg_sign_${served}`,
        type: 'message',
        role: 'assistant',
        model: String(body.model),
        content: [
          { type: 'thinking', thinking, signature: sign(thinking) },
          { type: 'text', text: `answer ${served} from ${secret}` },
        ],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 10, output_tokens: 5 },
      };
      if (body.stream !== true) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(message));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const send = (type: string, data: unknown) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
      send('message_start', { type: 'message_start', message: { ...message, content: [], stop_reason: null } });
      send('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } });
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking } });
      send('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: sign(thinking) } });
      send('content_block_stop', { type: 'content_block_stop', index: 0 });
      send('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: message.content[1]!.text } });
      send('content_block_stop', { type: 'content_block_stop', index: 1 });
      send('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 5 } });
      send('message_stop', { type: 'message_stop' });
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function check(body: Record<string, unknown>, sign: (text: string) => string): string | undefined {
  const messages = (body.messages ?? []) as Turn[];
  for (const [i, message] of messages.entries()) {
    if (message.role !== 'assistant' || typeof message.content === 'string') continue;
    for (const [j, block] of message.content.entries()) {
      if (block.type === 'thinking' && block.signature !== sign(block.thinking ?? '')) {
        return `messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`;
      }
    }
  }
  const last = [...messages].reverse().find((m) => m.role === 'assistant');
  if (body.thinking && last && typeof last.content !== 'string' && last.content.some((b) => b.type === 'tool_use') && last.content[0]?.type !== 'thinking') {
    return 'messages: a final `assistant` message must start with a thinking block when thinking is enabled';
  }
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
}
