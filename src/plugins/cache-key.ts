import { createHash } from 'node:crypto';
import type { MessageParam, MessagesRequest } from '../anthropic/types.js';
import type { ProxyContext } from '../kernel/types.js';

/** Namespace and format version of every cache key; bump the version when the key or the stored format changes. */
export const CACHE_NAMESPACE = 'llmp:v1:';

export interface CacheKeys {
  /** `llmp:v1:<sha256>` over everything that determines the answer. */
  readonly key: string;
  /** `llmp:v1:scope:<sha256>`: the same minus the last user turn (a semantic cache compares only answers of one scope). */
  scope(): string;
  /** The text of the last user turn (its text blocks joined by newlines); '' when there is none. */
  readonly lastUserText: string;
  /** True when the last user turn is text only (no tool_result, image or document): a semantic cache may answer it. */
  readonly semanticEligible: boolean;
}

declare module '../kernel/types.js' {
  interface ContextState {
    /** The request's cache keys, computed once (see `cacheKeysOf`). */
    cacheKeys?: CacheKeys;
  }
}

/** Top-level request fields that change the answer; `model` is replaced by the resolved backend and upstream model. */
const DETERMINANTS = [
  'context_management',
  'max_tokens',
  'messages',
  'output_config',
  'stop_sequences',
  'system',
  'temperature',
  'thinking',
  'tool_choice',
  'tools',
  'top_k',
  'top_p',
] as const satisfies ReadonlyArray<keyof MessagesRequest>;

/** Subtrees that are user data, where a `cache_control` key is content, not a caching hint. */
const DATA_KEYS = new Set(['input', 'input_schema']);

/** The request's keys, computed on first use and kept on `ctx.state` (the body is serialised once per request). */
export function cacheKeysOf(ctx: ProxyContext): CacheKeys {
  ctx.state.cacheKeys ??= computeCacheKeys(ctx);
  return ctx.state.cacheKeys;
}

export function computeCacheKeys(ctx: ProxyContext): CacheKeys {
  const body = ctx.body;
  const writer = new CanonicalWriter();
  const lastUser = lastUserTurn(body.messages);
  writer.raw('{"backend":');
  writer.value(ctx.route?.backend.name ?? null, false);
  writer.raw(',"model":');
  writer.value(ctx.route?.model ?? body.model, false);
  if (ctx.state.clientKeyId !== undefined) {
    writer.raw(',"tenant":');
    writer.value(ctx.state.clientKeyId, false);
  }
  let lastStart = -1;
  let lastEnd = -1;
  for (const field of DETERMINANTS) {
    const value = body[field];
    if (value === undefined) continue;
    writer.raw(`,"${field}":`);
    if (field !== 'messages' || lastUser < 0) {
      writer.value(value, true);
      continue;
    }
    writer.raw('[');
    body.messages.forEach((message, i) => {
      if (i > 0) writer.raw(',');
      if (i === lastUser) lastStart = writer.length;
      writer.value(message, true);
      if (i === lastUser) lastEnd = writer.length;
    });
    writer.raw(']');
  }
  writer.raw('}');
  const text = writer.text();
  const turn = lastUser >= 0 ? body.messages[lastUser] : undefined;
  let scope: string | undefined;
  return {
    key: CACHE_NAMESPACE + sha256(text),
    scope: () => {
      scope ??= `${CACHE_NAMESPACE}scope:${lastStart < 0 ? sha256(text) : sha256(text.slice(0, lastStart), '<last-user-turn>', text.slice(lastEnd))}`;
      return scope;
    },
    lastUserText: turn ? textOf(turn) : '',
    semanticEligible: turn !== undefined && isTextOnly(turn),
  };
}

/** Index of the last user message, when only `role: "system"` messages follow it; else -1. */
function lastUserTurn(messages: readonly MessageParam[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    const role = messages[i]?.role;
    if (role === 'user') return i;
    if (role !== 'system') return -1;
  }
  return -1;
}

function textOf(message: MessageParam): string {
  if (typeof message.content === 'string') return message.content;
  return message.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
}

function isTextOnly(message: MessageParam): boolean {
  return typeof message.content === 'string' || message.content.every((block) => block.type === 'text');
}

function sha256(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

/**
 * Canonical JSON in one walk: object keys sorted, `undefined` dropped as JSON.stringify does,
 * and `cache_control` skipped outside user data (tool inputs and schemas).
 */
class CanonicalWriter {
  #out = '';

  get length(): number {
    return this.#out.length;
  }

  text(): string {
    return this.#out;
  }

  raw(text: string): void {
    this.#out += text;
  }

  value(value: unknown, strip: boolean): void {
    if (value === null || typeof value !== 'object') {
      this.#out += typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) ? JSON.stringify(value) : 'null';
      return;
    }
    if (Array.isArray(value)) {
      this.#out += '[';
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (i > 0) this.#out += ',';
        this.value(item === undefined || typeof item === 'function' ? null : item, strip);
      }
      this.#out += ']';
      return;
    }
    const record = value as Record<string, unknown>;
    this.#out += '{';
    let first = true;
    for (const key of Object.keys(record).sort()) {
      const item = record[key];
      if (item === undefined || typeof item === 'function' || (strip && key === 'cache_control')) continue;
      if (!first) this.#out += ',';
      first = false;
      this.#out += JSON.stringify(key) + ':';
      this.value(item, strip && !DATA_KEYS.has(key));
    }
    this.#out += '}';
  }
}
