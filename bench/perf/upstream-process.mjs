// A fast OpenAI-compatible upstream for bench/perf.ts, in its own process: every chat request is
// answered at once with a short streamed reply (or JSON when not streamed), whatever its size.
import { createServer } from 'node:http';

const id = 'chatcmpl-bench';
const chunk = (delta, finish = null) => `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1764547200, model: 'bench', system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
const STREAM = [chunk({ role: 'assistant', content: '' }), chunk({ content: 'po' }), chunk({ content: 'ng' }), chunk({}, 'stop'),
  `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1764547200, model: 'bench', choices: [], usage: { prompt_tokens: 20000, completion_tokens: 2, total_tokens: 20002 } })}\n\n`, 'data: [DONE]\n\n'].join('');
const JSON_BODY = JSON.stringify({ id, object: 'chat.completion', created: 1764547200, model: 'bench', choices: [{ index: 0, message: { role: 'assistant', content: 'pong' }, logprobs: null, finish_reason: 'stop' }], usage: { prompt_tokens: 20000, completion_tokens: 2, total_tokens: 20002 } });

const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
  let streamed = true;
  let head = '';
  req.on('data', (piece) => {
    if (head.length < 4096) head += piece.toString('latin1');
  });
  req.on('end', () => {
    streamed = !/"stream"\s*:\s*false/.test(head) || head.length >= 4096;
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"object":"list","data":[{"id":"bench","object":"model","created":1764547200,"owned_by":"system"}]}');
    } else if (streamed) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.end(STREAM);
    } else {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(JSON_BODY) });
      res.end(JSON_BODY);
    }
  });
});
server.listen(0, '127.0.0.1', () => process.send({ url: `http://127.0.0.1:${server.address().port}` }));
process.on('message', (message) => {
  if (message === 'close') server.close(() => process.exit(0));
});
