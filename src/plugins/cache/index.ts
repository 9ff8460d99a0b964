import type { Exchange, Outcome, Plugin, PluginApi, ProxyContext } from '../../kernel/types.js';
import { ageSeconds, type CachedAnswer, toCacheHit } from './answer.js';
import { cacheKeysOf, type CacheKeys } from './key.js';
import { backendCacheSettings, requestDirectives, type BackendCacheSettings, type CacheDirectives } from './policy.js';
import { Recording, recordResponse } from './recording.js';
import { cacheOptions, type CachePluginOptions } from './options.js';
import { CacheSavings } from './savings.js';
import { parsePluginOptions } from '../../plugin-kit/plugin-options.js';
import type { CacheApi, CacheSavingsReport, CacheTier } from './tier.js';

export { registerCacheTier, type CacheApi, type CacheTier } from './tier.js';
export { cacheOptions, type CachePluginOptions } from './options.js';

interface Session {
  /** The backend the keys are for; an answer failover got from another is not stored under them. */
  backend: string;
  keys: CacheKeys;
  directives: CacheDirectives;
  settings: BackendCacheSettings;
  /** The model the client asked for, for the savings. */
  requestedModel: string;
  /** The tiers that looked and missed, in stage order: they store the answer (or are backfilled from a later hit). */
  missed: CacheTier[];
  /** Set when this request leads a single flight. */
  recording?: Recording;
}

declare module '../../kernel/types.js' {
  interface ContextState {
    cacheSession?: Session;
  }
}

/**
 * Built-in: drives the cache tiers (a bail hook of lookups ordered by stage, like webpack's
 * cache), backfills the tiers that missed when a later one hits, tees the upstream answer into
 * every tier that missed, shares one upstream call among identical requests, sets the
 * `x-llm-proxy-cache` / `age` headers, and reports hits and savings in the `cache` status section.
 */
export function cache(options: CachePluginOptions = {}): Plugin {
  const checked = parsePluginOptions('cache', cacheOptions, options);
  const prices = checked.prices ?? {};
  const enabled = checked.enabled ?? true;
  const singleFlight = checked.singleFlight ?? true;
  let coordinator: CacheCoordinator | undefined;
  // Tiers a plugin applied before this one added wait here (the kernel applies `pre` plugins first, so rarely).
  const early: CacheTier[] = [];
  const api: CacheApi = {
    addTier(tier) {
      if (coordinator) coordinator.addTier(tier);
      else early.push(tier);
    },
    tierReports: () => coordinator?.tierReports() ?? {},
    savings: () => coordinator?.savingsReport() ?? new CacheSavings({}).report(),
    clear: async () => (await coordinator?.clear()) ?? [],
  };
  return {
    name: 'cache',
    enforce: 'pre',
    api,
    apply(kernel) {
      coordinator = new CacheCoordinator(kernel, new CacheSavings(prices), { enabled, singleFlight });
      for (const tier of early.splice(0)) coordinator.addTier(tier);
    },
    ready() {
      coordinator?.checkBackends();
    },
  };
}

class CacheCoordinator implements Omit<CacheApi, 'savings'> {
  readonly #tiers: CacheTier[] = [];
  readonly #flights = new Map<string, Recording>();
  readonly #settings = new Map<string, BackendCacheSettings>();

  constructor(
    private readonly api: PluginApi,
    private readonly savings: CacheSavings,
    private readonly options: { enabled: boolean; singleFlight: boolean },
  ) {
    const { hooks } = api;
    const { singleFlight } = options;
    hooks.cacheLookup.tapPromise({ name: 'cache', stage: -100 }, async (ctx) => {
      try {
        return this.#prepare(ctx);
      } catch (error) {
        // The cache is an optimisation: a request it cannot handle goes on uncached.
        ctx.log.warn('cache: request not cached', { reason: error instanceof Error ? error.message : String(error) });
        ctx.responseHeaders['x-llm-proxy-cache'] = 'bypass';
        return undefined;
      }
    });
    if (singleFlight) hooks.cacheLookup.tapPromise({ name: 'cache', stage: -5 }, (ctx) => this.#joinFlight(ctx));
    hooks.transform.tap({ name: 'cache', stage: -100 }, (exchange, ctx) => this.#onResponse(exchange, ctx));
    hooks.respond.tap('cache', (ctx, outcome) => this.#onRespond(ctx, outcome));
    api.status.add('cache', () => ({
      status: 'ok',
      enabled: options.enabled,
      singleFlight,
      inFlight: this.#flights.size,
      tiers: this.tierReports(),
      ...savings.report(),
    }));
  }

  savingsReport(): CacheSavingsReport {
    return this.savings.report();
  }

  async clear(): Promise<string[]> {
    const clearable = this.#tiers.filter((tier) => tier.clear !== undefined);
    await Promise.all(clearable.map((tier) => this.#safely(tier, 'clear', async () => await tier.clear?.())));
    return clearable.map((tier) => tier.name);
  }

  tierReports(): Record<string, Record<string, unknown>> {
    return Object.fromEntries(this.#tiers.map((tier) => [tier.name, tier.describe?.() ?? {}]));
  }

  addTier(tier: CacheTier): void {
    this.#tiers.push(tier);
    this.#tiers.sort((a, b) => a.stage - b.stage);
    this.api.hooks.cacheLookup.tapPromise({ name: tier.plugin, stage: tier.stage }, async (ctx) => this.#lookup(ctx, tier));
  }

  /** Fails start-up on an invalid `backends.<name>.cache`. */
  checkBackends(): void {
    for (const name of this.api.backends.names()) this.#settingsOf(name);
  }

  #settingsOf(backend: string): BackendCacheSettings {
    let settings = this.#settings.get(backend);
    if (!settings) {
      const spec = this.api.backends.spec(backend);
      settings = spec ? backendCacheSettings(spec, this.api.backends.get(backend)?.cacheByDefault ?? true) : { enabled: true };
      this.#settings.set(backend, settings);
    }
    return settings;
  }

  #prepare(ctx: ProxyContext): undefined {
    const backend = ctx.route?.backend.name;
    const settings = backend === undefined ? { enabled: false } : this.#settingsOf(backend);
    if (!this.options.enabled || !settings.enabled || (this.#tiers.length === 0 && !this.options.singleFlight)) {
      ctx.responseHeaders['x-llm-proxy-cache'] = 'bypass';
      return undefined;
    }
    const directives = requestDirectives(ctx.headers);
    // Only a semantic tier reads the scope (hashing it costs a second pass over most of the key's text).
    const keys = cacheKeysOf(ctx, this.#tiers.some((tier) => tier.hitStatus === 'semantic-hit'));
    ctx.state.cacheSession = { backend: backend ?? '', keys, directives, settings, requestedModel: ctx.body.model, missed: [] };
    ctx.cache = { status: directives.lookup ? 'miss' : 'bypass' };
    ctx.responseHeaders['x-llm-proxy-cache'] = ctx.cache.status;
    return undefined;
  }

  async #lookup(ctx: ProxyContext, tier: CacheTier) {
    const session = ctx.state.cacheSession;
    if (!session) return undefined;
    if (session.directives.lookup) {
      const answer = await this.#safely(tier, 'get', () => tier.get(session.keys, ctx));
      if (answer) {
        const status = tier.hitStatus ?? 'hit';
        if (status === 'hit') for (const earlier of session.missed) this.#store(earlier, session, answer);
        session.missed = [];
        return toCacheHit(answer.message, tier.name, status, ageSeconds(answer));
      }
    }
    session.missed.push(tier);
    return undefined;
  }

  /** Leads a flight for this key, or follows the one under way (re-electing when its leader fails). */
  async #joinFlight(ctx: ProxyContext) {
    const session = ctx.state.cacheSession;
    if (!session) return undefined;
    for (;;) {
      const flight = this.#flights.get(session.keys.key);
      if (!flight) {
        // A no-store request does not lead: its answer is not meant to be kept, nor shared.
        if (session.directives.store) session.recording = this.#startFlight(session, ctx);
        return undefined;
      }
      if (!session.directives.lookup || ctx.signal.aborted) return undefined;
      flight.followers++;
      await flight.waitFor(ctx.stream ? 'started' : 'settled', ctx.signal);
      if (flight.state === 'done' && flight.message) {
        return toCacheHit(flight.message, 'flight', 'hit', 0);
      }
      if (flight.state === 'open' && flight.started && !ctx.signal.aborted) {
        return { status: 'hit' as const, tier: 'flight', ageSeconds: 0, response: { kind: 'stream' as const, events: flight.follow() } };
      }
      flight.followers--;
      if (ctx.signal.aborted) return undefined;
    }
  }

  #startFlight(session: Session, ctx: ProxyContext): Recording {
    const recording = this.#newRecording(session, ctx);
    this.#flights.set(session.keys.key, recording);
    return recording;
  }

  #newRecording(session: Session, ctx: ProxyContext): Recording {
    const maxBytes = Math.max(0, ...this.#tiers.map((tier) => tier.maxEntryBytes));
    const forget = (recording: Recording) => {
      if (this.#flights.get(session.keys.key) === recording) this.#flights.delete(session.keys.key);
    };
    return new Recording(maxBytes, {
      dropped: forget,
      settled: (recording) => {
        // Stored before the flight is forgotten, so an identical request finds one or the other.
        if (recording.state === 'done' && recording.storable && recording.message && session.directives.store && !isHit(ctx)) {
          this.#storeAnswer(session, ctx, recording.message);
        }
        forget(recording);
      },
    });
  }

  #onResponse(exchange: Exchange, ctx: ProxyContext): Exchange {
    const session = ctx.state.cacheSession;
    if (!session || exchange.phase !== 'response') return exchange;
    if (isHit(ctx)) {
      ctx.responseHeaders['x-llm-proxy-cache'] = ctx.cache.status;
      ctx.responseHeaders.age = String(ctx.cache.ageSeconds ?? 0);
      if (ctx.cache.tier) ctx.responseHeaders['x-llm-proxy-cache-tier'] = ctx.cache.tier;
      // A leader answered by a later tier still hands that answer to its followers.
      return session.recording ? { phase: 'response', response: recordResponse(exchange.response, session.recording) } : exchange;
    }
    const wantsStore = session.directives.store && session.missed.length > 0;
    const recording = session.recording ?? (wantsStore ? this.#newRecording(session, ctx) : undefined);
    return recording ? { phase: 'response', response: recordResponse(exchange.response, recording) } : exchange;
  }

  #onRespond(ctx: ProxyContext, outcome: Outcome): void {
    const session = ctx.state.cacheSession;
    if (!session) {
      if (ctx.route) this.savings.bypass();
      return;
    }
    // A leader that failed before its answer started releases its followers.
    session.recording?.fail(outcome.error?.message ?? 'the request ended without an answer');
    const { status, tier } = ctx.cache;
    if (!isHit(ctx)) {
      if (status === 'miss') this.savings.miss();
      else this.savings.bypass();
    } else if (outcome.complete) {
      this.savings.hit(tier ?? status, outcome.usage, session.requestedModel);
    }
  }

  #storeAnswer(session: Session, ctx: ProxyContext, message: CachedAnswer['message']): void {
    if (ctx.route?.backend.name !== session.backend) return;
    const answer: CachedAnswer = {
      message,
      meta: { storedAt: Date.now(), backend: ctx.route?.backend.name ?? '', model: ctx.route?.model ?? '', usage: message.usage },
    };
    for (const tier of session.missed) this.#store(tier, session, answer);
    this.savings.stored();
  }

  #store(tier: CacheTier, session: Session, answer: CachedAnswer): void {
    void this.#safely(tier, 'set', () => tier.set(session.keys, answer, session.settings.ttlSeconds ?? tier.ttlSeconds));
  }

  /** A tier failure never fails a request: it is a miss, or an answer not stored. */
  async #safely<T>(tier: CacheTier, op: string, run: () => T | Promise<T>): Promise<T | undefined> {
    try {
      return await run();
    } catch (error) {
      this.api.logger.debug(`cache tier ${tier.name}: ${op} failed`, { reason: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }
}

const isHit = (ctx: ProxyContext): boolean => ctx.cache.status === 'hit' || ctx.cache.status === 'semantic-hit';
