// A fake embeddings server for the semantic-cache tests: a real node:http server on 127.0.0.1
// speaking OpenAI's `POST <prefix>/embeddings` (pretty-printed JSON, as api.openai.com writes it)
// and Ollama's `POST /api/embed` (Go's JSON encoder, `application/json; charset=utf-8`). The
// vectors come from the deterministic `embedText` (./text-embedding.ts).
//
//   const embeddings = await startFakeEmbeddings();
//   ... semanticCache({ embedder: { type: 'openai', url: `${embeddings.url}/v1`, model: 'fake-embed' } }) ...
//   embeddings.setMode('down');  // 503 for every request;  'hang': never answers
//   expect(embeddings.requests).toHaveLength(2);

import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { goJSON } from './ollama-builders.js';
import { parseBody, readBody } from './request-body.js';
import { embedText } from './text-embedding.js';

export type EmbeddingsMode = 'up' | 'down' | 'hang';

export interface EmbeddingsRequest {
  path: string;
  model: string;
  /** How many texts were asked for (the texts themselves are not kept). */
  inputs: number;
}

export interface FakeEmbeddings {
  readonly url: string;
  readonly requests: EmbeddingsRequest[];
  setMode(mode: EmbeddingsMode): void;
  close(): Promise<void>;
}

export async function startFakeEmbeddings(): Promise<FakeEmbeddings> {
  const requests: EmbeddingsRequest[] = [];
  const sockets = new Set<Socket>();
  let mode: EmbeddingsMode = 'up';

  const server = createServer({ keepAlive: true }, (req, res) => {
    void (async () => {
      const body = parseBody(await readBody(req));
      const fields = typeof body === 'object' && body !== null ? (body as { model?: unknown; input?: string | unknown[] }) : {};
      const model = typeof fields.model === 'string' ? fields.model : '';
      const input = Array.isArray(fields.input) ? fields.input.map(String) : [String(fields.input ?? '')];
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      const ollama = path === '/api/embed';
      if (req.method !== 'POST' || (!ollama && !path.endsWith('/embeddings'))) return send(res, 404, 'text/plain', '404 page not found');
      requests.push({ path, model, inputs: input.length });
      if (mode === 'hang') return;
      if (mode === 'down') {
        return ollama
          ? send(res, 503, OLLAMA_JSON, goJSON({ error: 'server busy, please try again.  maximum pending requests exceeded' }))
          : send(res, 503, 'application/json', pretty({ error: { message: 'The server is overloaded or not ready yet.', type: 'server_error', param: null, code: null } }));
      }
      const vectors = input.map(embedText);
      const tokens = input.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0);
      if (ollama) {
        return send(res, 200, OLLAMA_JSON, goJSON({ model, embeddings: vectors, total_duration: 14_143_917, load_duration: 1_019_500, prompt_eval_count: tokens }));
      }
      const data = vectors.map((embedding, index) => ({ object: 'embedding', index, embedding }));
      send(res, 200, 'application/json', pretty({ object: 'list', data, model, usage: { prompt_tokens: tokens, total_tokens: tokens } }));
    })().catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setMode: (next) => void (mode = next),
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const OLLAMA_JSON = 'application/json; charset=utf-8';

const pretty = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;

function send(res: ServerResponse, status: number, type: string, payload: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(payload)) });
  res.end(payload);
}
