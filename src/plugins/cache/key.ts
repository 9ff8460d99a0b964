import { createHash } from 'node:crypto';
import { derivedIfKnown } from '../../json/raw-values.js';
import type { MessageParam, MessagesRequest } from '../../anthropic/types.js';
import type { ProxyContext } from '../../kernel/types.js';

/** Namespace and format version of every cache key; bump the version when the key or the stored format changes. */
export const CACHE_NAMESPACE = 'llmp:v2:';

export interface CacheKeys {
  /** `llmp:v2:<sha256>` over everything that determines the answer. */
  readonly key: string;
  /** `llmp:v2:scope:<sha256>`: the same minus the last user turn (a semantic cache compares only answers of one scope). */
  scope(): string;
  /** The text of the last user turn (its text blocks joined by newlines); '' when there is none. */
  readonly lastUserText: string;
  /** True when the last user turn is text only (no tool_result, image or document): a semantic cache may answer it. */
  readonly semanticEligible: boolean;
}

declare module '../../kernel/types.js' {
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

/** Characters the canonical writer collects before hashing them. */
const FLUSH_AT = 16 * 1024;

/** Subtrees that are user data, where a `cache_control` key is content, not a caching hint. */
const DATA_KEYS = new Set(['input', 'input_schema']);

/**
 * The request's keys, computed on first use and kept on `ctx.state` (the body is read once per
 * request). `withScope` (a semantic tier is present) also hashes the scope, at once: the keys live
 * as long as the request and must not hold its conversation for that.
 */
export function cacheKeysOf(ctx: ProxyContext, withScope = true): CacheKeys {
  ctx.state.cacheKeys ??= computeCacheKeys(ctx, withScope);
  return ctx.state.cacheKeys;
}

/**
 * The key is the SHA-256 of a short text: the request's settings in canonical JSON, with the
 * digest of each big value (the tools, a system prompt of blocks, every turn) in its place, as
 * `#<sha256 of its canonical JSON>`, which no JSON value begins with. Claude Code sends the same
 * tools, system prompt and earlier turns on every request of a session: their digests are worked
 * out once per distinct value (raw-values.ts), so a request costs the hashing of its new turns
 * only. The scope is the same text with a marker in place of the last user turn's digest.
 */
export function computeCacheKeys(ctx: ProxyContext, withScope = true): CacheKeys {
  const body = ctx.body;
  const lastUser = lastUserTurn(body.messages);
  let text = `{"backend":${canonical(ctx.route?.backend.name ?? null)},"model":${canonical(ctx.route?.model ?? body.model)}`;
  if (ctx.state.clientKeyId !== undefined) text += `,"tenant":${canonical(ctx.state.clientKeyId)}`;
  // Where the last user turn's digest lies in the text.
  let turnStart = -1;
  let turnEnd = -1;
  for (const field of DETERMINANTS) {
    const value = body[field];
    if (value === undefined) continue;
    if (field !== 'messages') {
      text += `,"${field}":${field === 'tools' || field === 'system' ? digestOf(value) : canonical(value)}`;
      continue;
    }
    text += ',"messages":[';
    for (let i = 0; i < body.messages.length; i++) {
      if (i > 0) text += ',';
      if (i === lastUser) turnStart = text.length;
      text += digestOf(body.messages[i]);
      if (i === lastUser) turnEnd = text.length;
    }
    text += ']';
  }
  text += '}';
  const digest = sha256(text);
  const scope = withScope ? `${CACHE_NAMESPACE}scope:${turnStart < 0 ? digest : sha256(text.slice(0, turnStart) + SCOPE_MARKER + text.slice(turnEnd))}` : undefined;
  const turn = lastUser >= 0 ? body.messages[lastUser] : undefined;
  return {
    key: CACHE_NAMESPACE + digest,
    scope: () => {
      if (scope === undefined) throw new Error('these cache keys were computed without a scope (no semantic tier is registered)');
      return scope;
    },
    lastUserText: turn ? textOf(turn) : '',
    semanticEligible: turn !== undefined && isTextOnly(turn),
  };
}

/** Stands for the last user turn in the scope's text. */
const SCOPE_MARKER = '<last-user-turn>';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A value's canonical JSON, written whole (the settings: short). */
function canonical(value: unknown): string {
  let text = '';
  const writer = new CanonicalWriter({ update: (data: string) => (text += data) });
  writer.value(value, true);
  writer.flush();
  return text;
}

/** For an object or array, `#` and the SHA-256 of its canonical JSON, worked out once per distinct value recognised by its bytes; anything else as it is. */
function digestOf(value: unknown): string {
  if (typeof value !== 'object' || value === null) return canonical(value);
  return derivedIfKnown(value, 'cache.digest', digestOfObject) ?? digestOfObject(value);
}

function digestOfObject(value: object): string {
  const hash = createHash('sha256');
  const writer = new CanonicalWriter(hash);
  writer.value(value, true);
  writer.flush();
  return `#${hash.digest('hex')}`;
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

/** Where canonical text goes: a hash, or a collector of text. */
interface Sink {
  update(data: string): unknown;
}

/**
 * Canonical JSON in one walk: object keys sorted, `undefined` dropped as JSON.stringify does,
 * and `cache_control` skipped outside user data (tool inputs and schemas). Written into its sink
 * in pieces of about FLUSH_AT characters, cut only between tokens (never inside a surrogate pair).
 */
class CanonicalWriter {
  #out = '';
  readonly #sink: Sink;

  constructor(sink: Sink) {
    this.#sink = sink;
  }

  flush(): void {
    this.#sink.update(this.#out);
    this.#out = '';
  }

  value(value: unknown, strip: boolean): void {
    if (value === null || typeof value !== 'object') {
      this.#out += typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)) ? JSON.stringify(value) : 'null';
      if (this.#out.length > FLUSH_AT) this.flush();
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
