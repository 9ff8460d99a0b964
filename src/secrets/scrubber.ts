export const REDACTED = '[redacted]';

/** Shorter raw values are not scrubbed: masking every "admin" or "1234" would mangle ordinary text. */
const MIN_RAW = 6;
/** Derived forms (base64 of a password or a `user:password` pair) count from this length, whatever the raw length. */
const MIN_ENCODED = 8;
/** The shortest start of a secret masked where a text was cut short. */
const MIN_PREFIX = 8;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The forms a secret travels in: as is, URL-encoded, JSON-escaped, base64 (what a Basic header carries). */
export function formsOf(secret: string): string[] {
  const forms: string[] = [];
  if (secret.length >= MIN_RAW) {
    const uri = encodeURIComponent(secret);
    forms.push(secret, uri, uri.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase()), JSON.stringify(secret).slice(1, -1));
  }
  const base64 = Buffer.from(secret).toString('base64');
  if (base64.length >= MIN_ENCODED) {
    const unpadded = base64.replace(/=+$/, '');
    forms.push(base64, unpadded, unpadded.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return forms.filter((form) => form.length >= MIN_RAW);
}

/**
 * Replaces every configured secret, in each of its forms, with `[redacted]`. Built once per
 * config (one regular expression); it runs on error messages, admin and health bodies, response
 * headers and log lines, never on streamed model output.
 */
export class SecretScrubber {
  static readonly none = new SecretScrubber([]);

  /** Longest first, so a longer form is never half-replaced through a shorter one. */
  readonly #forms: readonly string[];
  readonly #pattern: RegExp | undefined;
  readonly #longest: number;

  constructor(secrets: Iterable<string>) {
    const forms = new Set<string>();
    for (const secret of secrets) for (const form of formsOf(secret)) forms.add(form);
    forms.delete(REDACTED);
    this.#forms = [...forms].sort((a, b) => b.length - a.length);
    this.#longest = this.#forms[0]?.length ?? 0;
    this.#pattern = this.#forms.length ? new RegExp(this.#forms.map(escapeRegExp).join('|'), 'g') : undefined;
  }

  get empty(): boolean {
    return this.#pattern === undefined;
  }

  text(text: string): string {
    if (!this.#pattern || text === '') return text;
    return this.#truncated(text.replace(this.#pattern, REDACTED));
  }

  /**
   * A string, array or plain object with every string (and key) scrubbed; the value itself when
   * nothing needed it or when it is anything else (a buffer, a stream).
   */
  value<T>(value: T): T {
    if (!this.#pattern || value === null || typeof value !== 'object') return typeof value === 'string' ? (this.text(value) as T) : value;
    if (!Array.isArray(value) && Object.getPrototypeOf(value) !== Object.prototype) return value;
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined || this.text(json) === json) return value;
    return JSON.parse(json, (_key, item: unknown) => {
      if (typeof item === 'string') return this.text(item);
      if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
      return Object.fromEntries(Object.entries(item).map(([key, inner]) => [this.text(key), inner]));
    }) as T;
  }

  headers(headers: Readonly<Record<string, string>>): Record<string, string> {
    if (!this.#pattern) return { ...headers };
    return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, this.text(value)]));
  }

  /**
   * A message cut short (`…`, a quoted slice of a body, a string that simply ends) may end with
   * the start of a secret: mask that start too. Looks back from each boundary only, so a long
   * text costs no more than its boundaries times the longest form.
   */
  #truncated(text: string): string {
    let out = '';
    let from = 0;
    for (let at = 0; at <= text.length; at++) {
      if (at < text.length && text[at] !== '…' && text[at] !== '"') continue;
      let start = at;
      while (start > from && at - start < this.#longest && !/\s/.test(text[start - 1] ?? '')) start--;
      const cut = this.#prefixAt(text.slice(start, at));
      if (cut > 0) {
        out += text.slice(from, at - cut) + REDACTED;
        from = at;
      }
    }
    return from === 0 ? text : out + text.slice(from);
  }

  /** The length of the longest start of a form that `head` ends with (at least MIN_PREFIX), else 0. */
  #prefixAt(head: string): number {
    let longest = 0;
    if (head.length < MIN_PREFIX) return 0;
    for (const form of this.#forms) {
      const opening = form.slice(0, MIN_PREFIX);
      // The earliest match that runs to the end of `head` is the longest.
      for (let at = head.indexOf(opening); at >= 0; at = head.indexOf(opening, at + 1)) {
        const tail = head.length - at;
        if (tail < form.length && tail > longest && form.startsWith(head.slice(at))) {
          longest = tail;
          break;
        }
      }
    }
    return longest;
  }
}
