import { AsyncLocalStorage } from 'node:async_hooks';
import type { Context } from '@opentelemetry/api';

/**
 * The trace context of the request a piece of work runs for, carried through its async flow
 * (an AsyncLocalStorage) only once something needs it: the first Redis command or traced
 * operation anyone publishes. A proxy without Redis or an embedder never pays for the carrying
 * (on Node 20 an AsyncLocalStorage in use costs every promise of the process).
 */
export class TraceCarrier {
  #storage: AsyncLocalStorage<Context> | undefined;

  /** From now on, requests carry their context. */
  need(): void {
    this.#storage ??= new AsyncLocalStorage<Context>();
  }

  /** Whether requests carry their context (something traced needs it). */
  get active(): boolean {
    return this.#storage !== undefined;
  }

  current(): Context | undefined {
    return this.#storage?.getStore();
  }

  /** The rest of the calling async flow runs in `context`. */
  enter(context: Context): void {
    this.#storage?.enterWith(context);
  }

  run<A extends unknown[], R>(context: Context, fn: (...args: A) => R, ...args: A): R {
    return this.#storage ? this.#storage.run(context, fn, ...args) : fn(...args);
  }
}
