import type { Usage } from '../../anthropic/types.js';
import { globToRegExp } from '../../plugin-kit/model-mapping.js';

/** US dollars per million tokens. */
export interface Price {
  input: number;
  output: number;
}

/**
 * Anthropic list prices of the models Claude Code asks for; the first matching glob wins, and the
 * `prices` option is matched before these. Opus 4.5 and later are $5/$25, Opus 4 and 4.1 $15/$75.
 */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = {
  'claude-opus-4': { input: 15, output: 75 },
  'claude-opus-4-0*': { input: 15, output: 75 },
  'claude-opus-4-1*': { input: 15, output: 75 },
  'claude-opus-4-2025*': { input: 15, output: 75 },
  'claude-3-opus*': { input: 15, output: 75 },
  '*opus*': { input: 5, output: 25 },
  '*sonnet*': { input: 3, output: 15 },
  'claude-3-5-haiku*': { input: 0.8, output: 4 },
  'claude-3-haiku*': { input: 0.25, output: 1.25 },
  '*haiku*': { input: 1, output: 5 },
};

/** Per-tier hit counts, tokens served from the cache, and what they would have cost at list prices. */
export class CacheSavings {
  readonly #rules: Array<{ test: RegExp; price: Price }>;
  readonly #hits: Record<string, number> = {};
  #misses = 0;
  #bypasses = 0;
  #stores = 0;
  #inputTokens = 0;
  #outputTokens = 0;
  #savedUsd = 0;

  constructor(prices: Record<string, Price>) {
    this.#rules = Object.entries({ ...prices, ...withoutKeys(DEFAULT_PRICES, prices) }).map(([glob, price]) => ({ test: globToRegExp(glob), price }));
  }

  /** `model` is the model the client asked for (what it would have paid for). */
  hit(tier: string, usage: Usage | undefined, model: string): void {
    this.#hits[tier] = (this.#hits[tier] ?? 0) + 1;
    if (!usage) return;
    const input = usage.input_tokens + (usage.cache_creation_input_tokens ?? 0) + (usage.cache_read_input_tokens ?? 0);
    this.#inputTokens += input;
    this.#outputTokens += usage.output_tokens;
    const price = this.priceOf(model);
    if (price) this.#savedUsd += (input * price.input + usage.output_tokens * price.output) / 1_000_000;
  }

  miss(): void {
    this.#misses++;
  }

  bypass(): void {
    this.#bypasses++;
  }

  stored(): void {
    this.#stores++;
  }

  priceOf(model: string): Price | undefined {
    return this.#rules.find((rule) => rule.test.test(model))?.price;
  }

  report() {
    return {
      hits: { ...this.#hits },
      misses: this.#misses,
      bypasses: this.#bypasses,
      stores: this.#stores,
      tokensServed: { input: this.#inputTokens, output: this.#outputTokens },
      savedUsd: Math.round(this.#savedUsd * 1e6) / 1e6,
    };
  }
}

function withoutKeys<T>(record: Readonly<Record<string, T>>, drop: Record<string, unknown>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !(key in drop)));
}
