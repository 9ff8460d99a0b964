import type { ServedModel } from '../../kernel/types.js';
import type { UpstreamClient } from '../../upstream/http-client.js';

// A model's window as a server's model list says it, for both formats' providers: vLLM's and
// SGLang's `max_model_len`, `context_window` (Groq), `context_length` (OpenRouter),
// `max_input_tokens`; llama.cpp lists only the trained window, and serves what `/props` says.

const WINDOW_FIELDS = ['max_model_len', 'context_window', 'context_length', 'max_input_tokens'] as const;
const PROPS_TIMEOUT_MS = 5_000;

export type ModelEntry = Record<string, unknown>;

const positive = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined);

/** The list's entry for `model` (the only entry of a one-model server), or undefined. */
export function entryFor(entries: readonly ModelEntry[], model: string): ModelEntry | undefined {
  return entries.find((entry) => entry.id === model) ?? (entries.length === 1 ? entries[0] : undefined);
}

export function isLlamaCpp(entries: readonly ModelEntry[]): boolean {
  return entries.some((entry) => entry.owned_by === 'llamacpp' || (typeof entry.meta === 'object' && entry.meta !== null && 'n_ctx_train' in entry.meta));
}

/** The window a model-list entry names, or none. */
export function listedWindow(entry: ModelEntry | undefined): ServedModel {
  for (const field of WINDOW_FIELDS) {
    const window = positive(entry?.[field]);
    if (window) return { contextWindow: window, source: `/v1/models ${field}` };
  }
  return {};
}

/** llama.cpp's `GET /props` `default_generation_settings.n_ctx` (per slot: what it serves), at the server's origin. */
export async function llamaCppWindow(client: UpstreamClient, signal?: AbortSignal): Promise<ServedModel | undefined> {
  const response = await client.request({ method: 'GET', path: '/props', fromOrigin: true, signal, timeoutMs: PROPS_TIMEOUT_MS });
  if (response.status >= 400) {
    await response.text().catch(() => '');
    return undefined;
  }
  const props = await response.json<{ default_generation_settings?: { n_ctx?: unknown } }>();
  const nCtx = positive(props.default_generation_settings?.n_ctx);
  return nCtx ? { contextWindow: nCtx, source: 'llama.cpp /props n_ctx' } : undefined;
}
