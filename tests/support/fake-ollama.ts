// A scriptable fake Ollama: a real node:http server on 127.0.0.1 speaking Ollama's native API the
// way Ollama (Gin) writes it. `/api/chat` answers from a queue of scripted replies; the model
// endpoints answer from a list of "pulled" models, and the chat endpoint refuses a model that is
// not pulled, tools for a model without the `tools` capability and `think` for a model without
// `thinking`, exactly as Ollama does.
//
//   const ollama = await startFakeOllama();
//   ollama.enqueue({ kind: 'stream', lines: ollamaTextLines('hello') });
//   ... backend { type: 'ollama', url: ollama.url, model: 'qwen3-coder:30b' } ...
//   expect(ollama.chatRequests[0]?.body).toMatchObject({ stream: true });
//
// Endpoints: POST /api/chat, GET /api/tags, POST /api/show, GET /api/version, POST /api/embed,
// GET|HEAD / ("Ollama is running"); anything else is Gin's `404 page not found`.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { isDelay, sleep, write } from './fake-upstream-replies.js';
import type { Delay } from './fake-upstream-reply-types.js';
import type { OllamaLine } from './ollama-builders.js';
import { goJSON, ollamaTime } from './ollama-builders.js';
import { randomHex } from './random-ids.js';
import { parseBody, readBody } from './request-body.js';

export * from './ollama-builders.js';

export interface FakeOllamaModel {
  name: string;
  /** As `/api/show` reports them: completion, tools, thinking, vision, embedding. */
  capabilities: string[];
  /** `<arch>.context_length` in `/api/show` (default 262144, Qwen3-Coder's). */
  contextLength?: number;
}

export type OllamaReply =
  /** NDJSON lines; like Ollama, the status line and headers go out with the first line, not before. */
  | { kind: 'stream'; lines: Array<OllamaLine | Delay>; cutAfter?: number }
  /** A JSON `{"error": message}` with this status, as Ollama answers before streaming. */
  | { kind: 'error'; status: number; error: string };

export interface OllamaRequest {
  method: string;
  path: string;
  body: unknown;
  receivedAt: number;
  /** True when the client closed its socket before the answer was complete. */
  aborted: boolean;
}

export interface FakeOllama {
  readonly url: string;
  readonly requests: OllamaRequest[];
  readonly chatRequests: OllamaRequest[];
  enqueue(...replies: OllamaReply[]): void;
  setModels(models: FakeOllamaModel[]): void;
  reset(): void;
  close(): Promise<void>;
}

export const DEFAULT_OLLAMA_MODELS: FakeOllamaModel[] = [
  { name: 'qwen3-coder:30b', capabilities: ['completion', 'tools'] },
  { name: 'qwen3:8b', capabilities: ['completion', 'tools', 'thinking'] },
  { name: 'gemma3:4b', capabilities: ['completion', 'vision'] },
  { name: 'nomic-embed-text:latest', capabilities: ['embedding'] },
];

const JSON_TYPE = 'application/json; charset=utf-8';

export async function startFakeOllama(): Promise<FakeOllama> {
  const requests: OllamaRequest[] = [];
  let queue: OllamaReply[] = [];
  let models = [...DEFAULT_OLLAMA_MODELS];
  const sockets = new Set<Socket>();
  const stop = new AbortController();

  const find = (name: unknown): FakeOllamaModel | undefined =>
    typeof name === 'string' ? models.find((m) => m.name === (name.includes(':') ? name : `${name}:latest`)) : undefined;

  const server = createServer({ keepAlive: true, noDelay: true }, (req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const record: OllamaRequest = { method: req.method ?? 'GET', path: req.url ?? '/', body: parseBody(await readBody(req)), receivedAt: Date.now(), aborted: false };
    requests.push(record);
    res.once('close', () => {
      if (!res.writableFinished) record.aborted = true;
    });
    const body = (record.body ?? {}) as Record<string, unknown>;
    const route = `${record.method} ${new URL(record.path, 'http://x').pathname}`;
    switch (route) {
      case 'POST /api/chat':
        return chat(body, res);
      case 'GET /api/tags':
        return json(res, 200, { models: models.map(tag) });
      case 'POST /api/show': {
        const model = find(body.model);
        if (!model) return json(res, 404, { error: `model '${String(body.model)}' not found` });
        return json(res, 200, show(model));
      }
      case 'GET /api/version':
        return json(res, 200, { version: '0.12.6' });
      case 'POST /api/embed':
        return embed(body, res);
      case 'GET /':
      case 'HEAD /':
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        return void res.end('Ollama is running');
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        return void res.end('404 page not found');
    }
  }

  async function chat(body: Record<string, unknown>, res: ServerResponse): Promise<void> {
    const model = find(body.model);
    const name = String(body.model);
    if (!model) return json(res, 404, { error: `model "${name}" not found, try pulling it first` });
    if (Array.isArray(body.tools) && body.tools.length > 0 && !model.capabilities.includes('tools')) {
      return json(res, 400, { error: `registry.ollama.ai/library/${model.name} does not support tools` });
    }
    if (body.think !== undefined && body.think !== false && !model.capabilities.includes('thinking')) {
      return json(res, 400, { error: `"${name}" does not support thinking` });
    }
    const reply = queue.shift() ?? { kind: 'error', status: 500, error: 'fake ollama: no scripted reply' };
    if (reply.kind === 'error') return json(res, reply.status, { error: reply.error });
    let written = 0;
    for (const item of reply.lines) {
      if (isDelay(item)) {
        await sleep(item.delayMs, stop.signal);
        continue;
      }
      if (reply.cutAfter !== undefined && written >= reply.cutAfter) break;
      if (written === 0) res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      await write(res, `${goJSON(item)}\n`);
      written++;
      if (res.destroyed || stop.signal.aborted) return;
    }
    if (reply.cutAfter !== undefined) res.destroy();
    else res.end();
  }

  function embed(body: Record<string, unknown>, res: ServerResponse): void {
    const model = find(body.model);
    if (!model) return json(res, 404, { error: `model "${String(body.model)}" not found, try pulling it first` });
    if (!model.capabilities.includes('embedding')) return json(res, 400, { error: 'this model does not support embeddings' });
    const input = Array.isArray(body.input) ? body.input.map(String) : [String(body.input)];
    json(res, 200, { model: model.name, embeddings: input.map(vector), total_duration: 14_143_917, load_duration: 1_019_500, prompt_eval_count: input.length * 8 });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get chatRequests() {
      return requests.filter((r) => r.path === '/api/chat');
    },
    enqueue: (...replies) => void queue.push(...replies),
    setModels: (list) => void (models = [...list]),
    reset() {
      requests.length = 0;
      queue = [];
      models = [...DEFAULT_OLLAMA_MODELS];
    },
    async close() {
      stop.abort();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const payload = goJSON(body);
  res.writeHead(status, { 'content-type': JSON_TYPE, 'content-length': String(Buffer.byteLength(payload)) });
  res.end(payload);
}

function tag(model: FakeOllamaModel): Record<string, unknown> {
  return {
    name: model.name,
    model: model.name,
    modified_at: ollamaTime(new Date('2025-11-01T10:00:00Z')),
    size: 18_556_700_761,
    digest: randomHex(64),
    details: { parent_model: '', format: 'gguf', family: 'qwen3moe', families: ['qwen3moe'], parameter_size: '30.5B', quantization_level: 'Q4_K_M' },
  };
}

function show(model: FakeOllamaModel): Record<string, unknown> {
  return {
    modelfile: `# Modelfile generated by "ollama show"\nFROM ${model.name}\n`,
    parameters: 'temperature                    0.7\ntop_k                          20',
    template: '{{- range .Messages }}{{ .Content }}{{ end }}',
    details: { parent_model: '', format: 'gguf', family: 'qwen3moe', families: ['qwen3moe'], parameter_size: '30.5B', quantization_level: 'Q4_K_M' },
    model_info: { 'general.architecture': 'qwen3moe', 'qwen3moe.context_length': model.contextLength ?? 262144 },
    capabilities: model.capabilities,
    modified_at: ollamaTime(new Date('2025-11-01T10:00:00Z')),
  };
}

/** A small deterministic vector per text, so tests can compare them. */
function vector(text: string): number[] {
  const out = new Array<number>(8).fill(0);
  for (let i = 0; i < text.length; i++) out[i % 8] = (out[i % 8] ?? 0) + text.charCodeAt(i) / 1000;
  return out;
}
