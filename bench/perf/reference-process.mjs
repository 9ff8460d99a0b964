// A reference for bench/perf.ts: about the least a Node proxy can do for the same request, with
// no plugins, no cache, no limits and no error handling: node:http in, JSON.parse, the request
// translation llm-proxy uses, JSON.stringify, undici out, and the OpenAI stream written back as
// Anthropic events by a plain loop. What llm-proxy costs above it is the cost of its features.
import { createServer } from 'node:http';
import { Pool } from 'undici';
import { serveForBench } from './bench-server.mjs';

const dist = process.env.BENCH_PROXY_DIST ?? new URL('../../dist', import.meta.url).pathname;
const { toOpenAIRequest } = await import(`${dist}/src/openai/request.js`);
const { upstream } = JSON.parse(process.argv[2]);
const pool = new Pool(upstream, { connections: 64 });
const sse = (type, data) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    const request = JSON.parse(Buffer.concat(chunks).toString());
    const answer = await pool.request({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(toOpenAIRequest(request, { model: 'bench', stream: true })),
    });
    let text = '';
    let buffer = '';
    const id = `msg_${Math.random().toString(36).slice(2)}`;
    if (request.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(sse('message_start', { message: { id, type: 'message', role: 'assistant', model: request.model, content: [], stop_reason: null, usage: { input_tokens: 0, output_tokens: 0 } } }));
      res.write(sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
    }
    for await (const piece of answer.body) {
      buffer += piece.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop();
      for (const line of lines) {
        if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
        const delta = JSON.parse(line.slice(6)).choices?.[0]?.delta?.content;
        if (!delta) continue;
        text += delta;
        if (request.stream) res.write(sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: delta } }));
      }
    }
    if (!request.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id, type: 'message', role: 'assistant', model: request.model, content: [{ type: 'text', text }], stop_reason: 'end_turn', usage: { input_tokens: 0, output_tokens: 0 } }));
      return;
    }
    res.write(sse('content_block_stop', { index: 0 }));
    res.write(sse('message_delta', { delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 0 } }));
    res.end(sse('message_stop', {}));
  });
});
serveForBench(server);
