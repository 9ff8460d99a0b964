// A slow OpenAI-compatible upstream for the memory benchmark, in its own process: every
// POST .../chat/completions streams `pieces` content chunks, one every `intervalMs` for all open
// streams at once (one timer), then finish_reason, usage and [DONE]. Request bodies are
// discarded, so this process stays small and out of the proxy's numbers.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const pieces = Number(process.env.PIECES ?? 40);
const intervalMs = Number(process.env.INTERVAL_MS ?? 150);

interface Open {
  res: ServerResponse;
  sent: number;
}

const open = new Set<Open>();
/** Most streams open at once since the last `stats` message. */
let mostOpen = 0;
process.on('message', () => {
  process.send?.({ mostOpen });
  mostOpen = 0;
});
const chunk = (delta: object, finish: string | null = null, usage?: object) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;

const server = createServer((req, res) => {
  req.resume();
  if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"message":"not found"}}');
    return;
  }
  req.once('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(chunk({ role: 'assistant', content: '' }));
    const stream = { res, sent: 0 };
    open.add(stream);
    mostOpen = Math.max(mostOpen, open.size);
    res.once('close', () => open.delete(stream));
  });
});

setInterval(() => {
  for (const stream of open) {
    stream.sent++;
    if (stream.sent <= pieces) {
      stream.res.write(chunk({ content: `word${stream.sent} ` }));
      continue;
    }
    stream.res.write(chunk({}, 'stop'));
    stream.res.end(chunk({}, null, { prompt_tokens: 20000, completion_tokens: pieces, total_tokens: 20000 + pieces }) + 'data: [DONE]\n\n');
    open.delete(stream);
  }
}, intervalMs);

server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.send?.({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
});
