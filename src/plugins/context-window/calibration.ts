import type { Usage } from '../../anthropic/types.js';

/**
 * The estimate is within about 10 % of a tokenizer, either way: until a backend's answers say
 * how it counts, estimates are raised by this much, and by a little once they do.
 */
const UNCALIBRATED_MARGIN = 1.15;
const CALIBRATED_MARGIN = 1.03;
/** How much one answer moves the factor. */
const WEIGHT = 0.3;
/** A ratio outside this range says more about the answer (a cached prompt, a cut one) than about the tokenizer. */
const MIN_RATIO = 0.5;
const MAX_RATIO = 2;

/**
 * What the estimate is multiplied by for one backend and model, learned from the input tokens
 * its answers report. It only ever raises the estimate: one that is high compacts a little
 * early, one that is low lets the server cut the prompt (Ollama does, without a word).
 */
export class Calibration {
  readonly #ratios = new Map<string, number>();

  factor(backend: string, model: string): number {
    const ratio = this.#ratios.get(`${backend}\0${model}`);
    return ratio === undefined ? UNCALIBRATED_MARGIN : Math.max(1, ratio) * CALIBRATED_MARGIN;
  }

  /** After a whole answer: the tokens the server counted against the estimate made for the request. */
  learn(backend: string, model: string, estimate: number, usage: Usage): void {
    const counted = usage.input_tokens + (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0);
    if (estimate <= 0 || counted <= 0) return;
    const ratio = counted / estimate;
    if (ratio < MIN_RATIO || ratio > MAX_RATIO) return;
    const key = `${backend}\0${model}`;
    const previous = this.#ratios.get(key);
    this.#ratios.set(key, previous === undefined ? ratio : previous + WEIGHT * (ratio - previous));
  }

  /** For `status`: each factor that differs from 1. */
  factors(): Array<{ backend: string; model: string; factor: number }> {
    return [...this.#ratios].map(([key, ratio]) => {
      const [backend = '', model = ''] = key.split('\0');
      return { backend, model, factor: Math.round(ratio * 1000) / 1000 };
    });
  }
}
