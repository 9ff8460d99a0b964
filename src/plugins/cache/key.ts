import { createHash } from 'node:crypto';
import { derivedIfKnown } from '../../json/raw-values.js';
import type { MessageParam, MessagesRequest } from '../../anthropic/types.js';
import type { ProxyContext } from '../../kernel/types.js';

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
 * The request's keys, computed on first use and kept on `ctx.state` (the body is serialised once
 * per request). `withScope` (a semantic tier is present) also hashes the scope, at once: the
 * keys live as long as the request, and must not hold the ~100 KB canonical text for that.
 */
export function cacheKeysOf(ctx: ProxyContext, withScope = true): CacheKeys {
  ctx.state.cacheKeys ??= computeCacheKeys(ctx, withScope);
  return ctx.state.cacheKeys;
}

export function computeCacheKeys(ctx: ProxyContext, withScope = true): CacheKeys {
  const body = ctx.body;
  const lastUser = lastUserTurn(body.messages);
  // The canonical text goes straight into the digests, a few KB at a time: as one string it is
  // ~160 KB (two-byte: Claude Code's prompts carry dashes), a large object V8 frees only in a full GC.
  // The scope digest is the same text with a marker in place of the last user turn.
  const keyHash = createHash('sha256');
  const scopeHash = withScope && lastUser >= 0 ? createHash('sha256') : undefined;
  const both: Sink[] = scopeHash ? [keyHash, scopeHash] : [keyHash];
  const writer = new CanonicalWriter(both);
  writer.raw('{"backend":');
  writer.value(ctx.route?.backend.name ?? null, false);
  writer.raw(',"model":');
  writer.value(ctx.route?.model ?? body.model, false);
  if (ctx.state.clientKeyId !== undefined) {
    writer.raw(',"tenant":');
    writer.value(ctx.state.clientKeyId, false);
  }
  for (const field of DETERMINANTS) {
    const value = body[field];
    if (value === undefined) continue;
    writer.raw(`,"${field}":`);
    if ((field === 'tools' || field === 'system') && typeof value === 'object') {
      writer.recognised(value);
      continue;
    }
    if (field !== 'messages') {
      writer.value(value, true);
      continue;
    }
    writer.raw('[');
    for (let i = 0; i < body.messages.length; i++) {
      if (i > 0) writer.raw(',');
      if (i === lastUser) writer.into([keyHash]);
      writer.recognised(body.messages[i]);
      if (i === lastUser) {
        writer.into(both);
        scopeHash?.update('<last-user-turn>');
      }
    }
    writer.raw(']');
  }
  writer.raw('}');
  writer.flush();
  const turn = lastUser >= 0 ? body.messages[lastUser] : undefined;
  const digest = keyHash.digest('hex');
  const scope = withScope ? `${CACHE_NAMESPACE}scope:${scopeHash?.digest('hex') ?? digest}` : undefined;
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
  update(data: string | Buffer): unknown;
}

/**
 * The canonical text of a recognised value as UTF-8, written once per distinct value (see
 * raw-values.ts): the key is the same SHA-256 over the same text (keys already stored stay
 * valid), without the walk that writes it.
 */
function canonicalBytes(value: object): Buffer {
  const pieces: Buffer[] = [];
  const writer = new CanonicalWriter([{ update: (data: string | Buffer) => pieces.push(typeof data === 'string' ? Buffer.from(data) : data) }]);
  writer.value(value, true);
  writer.flush();
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
}

/**
 * Canonical JSON in one walk: object keys sorted, `undefined` dropped as JSON.stringify does,
 * and `cache_control` skipped outside user data (tool inputs and schemas). Written into hashes
 * in pieces of about FLUSH_AT characters, cut only between tokens (never inside a surrogate pair).
 */
class CanonicalWriter {
  #out = '';
  #sinks: readonly Sink[];

  constructor(sinks: readonly Sink[]) {
    this.#sinks = sinks;
  }

  /** Flushes what was written so far, then writes into `sinks`. */
  into(sinks: readonly Sink[]): void {
    this.flush();
    this.#sinks = sinks;
  }

  flush(): void {
    for (const sink of this.#sinks) sink.update(this.#out);
    this.#out = '';
  }

  raw(text: string): void {
    this.#out += text;
  }

  /**
   * A value that comes again on every request of a session (tools, system prompt, a turn): when it
   * was recognised by its bytes, its canonical text is written once and hashed from those bytes
   * after that (the same text, so the same key); any other value is walked as usual.
   */
  recognised(value: unknown): void {
    const utf8 = typeof value === 'object' && value !== null ? derivedIfKnown(value, 'cache.canonical', canonicalBytes) : undefined;
    if (!utf8) {
      this.value(value, true);
      return;
    }
    this.flush();
    for (const sink of this.#sinks) sink.update(utf8);
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
