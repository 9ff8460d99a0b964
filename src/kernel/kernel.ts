import { randomId } from '../random-id.js';
import Router from '@koa/router';
import Koa from 'koa';
import { Backends } from '../backends/registry.js';
import { sendBeforeBody } from '../http/body.js';
import { ProxyError, toProxyError } from '../errors.js';
import { createHooks, tapOnly, type Hooks } from './hooks.js';
import type { Logger } from '../logger.js';
import { failureFields } from './failure-log.js';
import { runPipeline } from './pipeline.js';
import { applyPlugins, attributeTapErrors, closePlugins, dependencyApi, optionalApi, orderPlugins, readyPlugins } from './plugin-driver.js';
import { errorBody } from '../http/send.js';
import { SecretScrubber } from '../secrets/scrubber.js';
import { StatusSections } from './status-sections.js';
import type { BackendSpec, Plugin, PluginApi, ServerSettings } from './types.js';

export interface KernelOptions {
  plugins: readonly Plugin[];
  backends: readonly BackendSpec[];
  activeBackend: string;
  server: ServerSettings;
  logger: Logger;
  /** Masks configured secrets in everything written except model output (default: nothing to mask). */
  scrubber?: SecretScrubber;
  /** The config file, named in configuration errors. */
  configFile?: string;
}

export const newRequestId = (): string => `req_${randomId(12, 'base64url')}`;

/** The Koa app, the hooks and the plugins: context, hook sequence, response, error mapping. */
export class Kernel {
  readonly app = new Koa();
  readonly hooks: Hooks = createHooks();
  readonly backends: Backends;
  readonly plugins: Plugin[];
  readonly #logger: Logger;
  readonly #scrubber: SecretScrubber;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly status = new StatusSections();

  private constructor(options: KernelOptions) {
    this.plugins = orderPlugins(options.plugins);
    this.backends = new Backends(options.activeBackend);
    this.#logger = options.logger;
    this.#scrubber = options.scrubber ?? SecretScrubber.none;
  }

  static async create(options: KernelOptions): Promise<Kernel> {
    const kernel = new Kernel(options);
    await kernel.#boot(options);
    return kernel;
  }

  async #boot(options: KernelOptions): Promise<void> {
    const { app, hooks } = this;
    app.proxy = false;
    app.silent = true;
    attributeTapErrors(hooks);
    app.use(this.#errorMapper());

    const router = new Router();
    const view = tapOnly(hooks);
    const api = (plugin: Plugin): PluginApi => ({
      hooks: view,
      logger: this.#logger.child({ plugin: plugin.name }),
      server: options.server,
      providers: this.backends,
      backends: this.backends,
      router,
      use: (middleware) => app.use(middleware),
      status: this.status,
      getApi: (name) => dependencyApi(this.plugins, plugin, name),
      findApi: (name) => optionalApi(this.plugins, plugin, name),
    });
    try {
      await applyPlugins(this.plugins, api);
      await this.backends.build(options.backends, { logger: this.#logger, server: options.server }, options.configFile);
      await readyPlugins(this.plugins);
    } catch (error) {
      await this.close();
      throw error;
    }

    const deps = { hooks, server: options.server, logger: this.#logger, scrubber: this.#scrubber };
    router.post('/v1/messages', (koa) => this.#track(runPipeline(koa, deps, 'messages')));
    router.post('/v1/messages/count_tokens', (koa) => this.#track(runPipeline(koa, deps, 'count_tokens')));
    app.use(router.routes());
  }

  #errorMapper(): Koa.Middleware {
    return async (koa, next) => {
      const id = newRequestId();
      koa.state.requestId = id;
      koa.set('request-id', id);
      try {
        await next();
        if (koa.status === 404 && koa.body == null && koa.respond !== false) {
          throw new ProxyError(`No such endpoint: ${koa.method} ${koa.path}`, {
            code: 'not_found',
            type: 'not_found_error',
          });
        }
      } catch (thrown) {
        const error = toProxyError(thrown);
        // The Messages routes logged their failure already, in their access log line.
        if (error.code === 'internal_error' && koa.state.failureLogged !== true) {
          this.#logger.error(`${koa.method} ${koa.path} failed`, { request: id, ...failureFields(error) });
        }
        if (koa.headerSent || koa.res.writableEnded) return;
        koa.respond = true;
        koa.status = error.status;
        koa.body = errorBody(error, id);
        if (error.retryAfter !== undefined) koa.set('retry-after', String(Math.ceil(error.retryAfter)));
        // Read by the Anthropic SDK and by Claude Code's own retry loop, before the status.
        if (error.retryable !== undefined) koa.set('x-should-retry', String(error.retryable));
      }
      if (koa.respond !== false && !koa.headerSent) this.#scrub(koa);
      // A rejection before the body was read (413, 401, 404) must not reset a client still sending it.
      if (koa.respond !== false && !koa.headerSent && !koa.req.complete) await sendBeforeBody(koa);
    };
  }

  /** Upstream text reaches error bodies, /health, the admin API and headers: mask every secret in them (model output excepted). */
  #scrub(koa: Koa.Context): void {
    const scrubber = this.#scrubber;
    if (scrubber.empty) return;
    for (const [name, value] of Object.entries(koa.response.headers)) {
      if (typeof value !== 'string') continue;
      const clean = scrubber.text(value);
      if (clean !== value) koa.set(name, clean);
    }
    const body: unknown = koa.body;
    const clean = body === koa.state.modelOutput ? body : scrubber.value(body);
    if (clean !== body) koa.body = clean;
  }

  /** Counts open requests so shutdown can wait for them. */
  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    const forget = () => this.#inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Resolves when open requests finished, or after `deadlineMs`. */
  async drain(deadlineMs: number): Promise<void> {
    if (this.#inFlight.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, deadlineMs);
    });
    await Promise.race([Promise.allSettled([...this.#inFlight]), deadline]);
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await closePlugins(this.plugins, this.#logger);
    await this.backends.close();
  }
}
