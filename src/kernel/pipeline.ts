import { setTimeout as sleep } from 'node:timers/promises';
import type { Context as KoaContext } from 'koa';
import type { MessagesRequest, StreamEvent } from '../anthropic/types.js';
import { collectMessage } from '../anthropic/accumulate.js';
import { countInputTokens } from '../backends/count-tokens.js';
import { messageJson, replayEvents } from '../anthropic/resent-message.js';
import { peekFirst } from '../anthropic/peek-first.js';
import { readJsonBody } from '../http/body.js';
import { ProxyError, toProxyError } from '../errors.js';
import type { Hooks } from './hooks.js';
import type { Logger } from '../logger.js';
import type { SecretScrubber } from '../secrets/scrubber.js';
import { describe, failureFields } from './failure-log.js';
import { errorBody, sendStream, type StreamSummary } from '../http/send.js';
import type { Outcome, ProviderResponse, ProxyContext, RouteDecision, ServerSettings, UpstreamCall } from './types.js';

export interface PipelineDeps {
  hooks: Hooks;
  server: ServerSettings;
  logger: Logger;
  scrubber: SecretScrubber;
}

/** POST /v1/messages and /v1/messages/count_tokens: the hook sequence for one request. */
export async function runPipeline(koa: KoaContext, deps: PipelineDeps, endpoint: ProxyContext['endpoint']): Promise<void> {
  const { hooks } = deps;
  const ctx = await createContext(koa, deps, endpoint);

  const outcome: Outcome = { status: 200, durationMs: 0, complete: false };
  try {
    await hooks.request.promise(ctx);
    if (endpoint === 'count_tokens') {
      // A model no backend takes can still be estimated.
      const route = await hooks.route.promise(ctx).catch((error: unknown) => {
        if (error instanceof ProxyError && error.type === 'invalid_request_error') return undefined;
        throw error;
      });
      if (route) setRoute(ctx, route);
      const counted = await countInputTokens(route?.backend, ctx.body, route?.model ?? ctx.body.model, ctx.signal, ctx.log);
      ctx.responseHeaders['x-llm-proxy-token-count'] = counted.exact ? 'exact' : 'estimate';
      koa.set(ctx.responseHeaders);
      koa.body = { input_tokens: counted.tokens };
      outcome.complete = true;
      return;
    }
    // Everything from the cache lookup to the provider's answer runs inside the event source,
    // so a slow upstream (a model still loading) already gets pings.
    const produce = async (): Promise<ProviderResponse> => {
      const response = await obtainResponse(ctx, hooks);
      outcome.backend = ctx.route?.backend.name;
      outcome.model = ctx.route?.model;
      const exchange = await hooks.transform.promise({ phase: 'response', response }, ctx);
      return exchange.phase === 'response' ? exchange.response : response;
    };

    if (ctx.stream) {
      koa.respond = false;
      const summary = await sendStream(eventsOf(produce), {
        res: koa.res,
        headers: ctx.responseHeaders,
        pingIntervalMs: deps.server.pingIntervalMs,
        signal: ctx.signal,
        scrubber: deps.scrubber,
      }).catch((error: unknown) => {
        koa.respond = true;
        throw error;
      });
      Object.assign(outcome, pickSummary(summary, ctx.receivedAt));
      if (summary.error) await observeError(ctx, hooks, summary.error);
    } else {
      const response = await produce();
      const message = response.kind === 'message' ? response.message : await collectMessage(response.events);
      koa.set(ctx.responseHeaders);
      koa.type = 'application/json';
      const json = messageJson(message);
      koa.body = json;
      // Model output is the client's own content: the kernel does not scrub it (README, Security).
      koa.state.modelOutput = json;
      Object.assign(outcome, { complete: true, messageId: message.id, usage: message.usage, stopReason: message.stop_reason });
    }
  } catch (thrown) {
    const error = toProxyError(thrown);
    outcome.error = error;
    outcome.status = error.status;
    await observeError(ctx, hooks, error);
    // The error mapper writes the answer; the headers plugins set (backend, warnings, timing) go with it.
    if (!koa.headerSent) koa.set(ctx.responseHeaders);
    throw error;
  } finally {
    outcome.durationMs = Date.now() - ctx.startedAt;
    if (outcome.error === undefined) outcome.status = koa.respond === false ? 200 : koa.status;
    logOutcome(ctx, outcome);
    // The access log line is this request's one line about its failure: the error mapper does not repeat it.
    koa.state.failureLogged = outcome.error !== undefined;
    void hooks.respond.promise(ctx, outcome).catch((error: unknown) => {
      ctx.log.warn('respond hook failed', { reason: describe(error) });
    });
  }
}

/** The `error` taps observe; one that throws is logged and never replaces the error the client gets. */
async function observeError(ctx: ProxyContext, hooks: Hooks, error: ProxyError): Promise<void> {
  await hooks.error.promise(ctx, error).catch((failure: unknown) => ctx.log.warn('error hook failed', { reason: describe(failure) }));
}

/** Reads the body into a new context. A function of its own: no local of the long-running pipeline holds the body. */
async function createContext(koa: KoaContext, deps: PipelineDeps, endpoint: ProxyContext['endpoint']): Promise<ProxyContext> {
  const id = koa.state.requestId as string;
  const timing = { receivedAt: performance.now() };
  const body = (await readJsonBody(koa.req, deps.server.bodyLimitBytes, timing)) as MessagesRequest;
  const aborter = new AbortController();
  koa.res.once('close', () => {
    if (!koa.res.writableFinished) aborter.abort();
  });
  return {
    id,
    endpoint,
    body,
    headers: koa.req.headers,
    stream: endpoint === 'messages' && body.stream === true,
    signal: aborter.signal,
    startedAt: Date.now(),
    receivedAt: timing.receivedAt,
    log: deps.logger.child({ request: id }),
    cache: { status: 'bypass' },
    attempts: [],
    responseHeaders: {},
    state: {},
  };
}

/** Route first (cheap, and the cache key needs the backend and upstream model), then the caches, then the provider. */
async function obtainResponse(ctx: ProxyContext, hooks: Hooks): Promise<ProviderResponse> {
  let route = await hooks.route.promise(ctx);
  if (!route) {
    throw new ProxyError('No backend accepted this request; check the `backend` setting.', {
      code: 'no_route',
      type: 'invalid_request_error',
    });
  }
  setRoute(ctx, route);
  const hit = await hooks.cacheLookup.promise(ctx);
  if (hit) {
    ctx.cache = { status: hit.status, tier: hit.tier, ageSeconds: hit.ageSeconds };
    ctx.body = settingsOnly(ctx.body);
    return hit.response;
  }
  // Another attempt needs the whole request again: it is kept until this function returns.
  const kept = ctx.retryPolicy ? ctx.body : undefined;
  for (;;) {
    const started = Date.now();
    try {
      return await attempt(ctx, hooks, route, kept !== undefined);
    } catch (thrown) {
      const error = toProxyError(thrown);
      const next = kept && !ctx.signal.aborted ? ctx.retryPolicy?.next(error, ctx) : undefined;
      if (!next || !kept) throw error;
      ctx.attempts.push({ backend: route.backend.name, model: route.model, error, durationMs: Date.now() - started });
      await observeError(ctx, hooks, error);
      if (next.delayMs > 0) await sleep(next.delayMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      if (ctx.signal.aborted) throw error;
      ctx.body = kept;
      ctx.quota = undefined;
      route = next.route;
      setRoute(ctx, route);
    }
  }
}

function setRoute(ctx: ProxyContext, route: RouteDecision): void {
  ctx.route = route;
  ctx.responseHeaders['x-llm-proxy-backend'] = route.backend.name;
}

/**
 * One call of the provider. When another attempt may follow, a stream's first event (a
 * non-stream's whole answer) is awaited here, so a failure before it can still be retried.
 */
async function attempt(ctx: ProxyContext, hooks: Hooks, route: RouteDecision, settle: boolean): Promise<ProviderResponse> {
  await transformRequest(ctx, hooks);
  const response = await route.backend.invoke(upstreamCall(ctx, route.model));
  ctx.body = settingsOnly(ctx.body);
  if (!settle || response.kind === 'message') return response;
  if (!ctx.stream) return { kind: 'message', message: await collectMessage(response.events) };
  return peekFirst(response.events, route.backend.name);
}

/** Its own function: the exchange (and the body in it) is no local of the frame that waits for the upstream. */
async function transformRequest(ctx: ProxyContext, hooks: Hooks): Promise<void> {
  const exchange = await hooks.transform.promise({ phase: 'request', body: ctx.body }, ctx);
  if (exchange.phase === 'request') ctx.body = exchange.body;
}

function upstreamCall(ctx: ProxyContext, model: string): UpstreamCall {
  return {
    get request() {
      return ctx.body;
    },
    takeRequest() {
      const whole = ctx.body;
      ctx.body = settingsOnly(whole);
      return whole;
    },
    model,
    stream: ctx.stream,
    signal: ctx.signal,
    context: ctx,
  };
}

/**
 * The request without its messages, system and tools (~100 KB parsed for Claude Code): once
 * the answer is coming, an open stream keeps only the settings (model, max_tokens, stream, …).
 */
function settingsOnly(body: MessagesRequest): MessagesRequest {
  const { messages: _messages, system: _system, tools: _tools, ...settings } = body;
  return { ...settings, messages: [] };
}

function pickSummary(summary: StreamSummary, receivedAt: number): Partial<Outcome> {
  return {
    ...(summary.firstEventAt === undefined ? {} : { firstEventMs: summary.firstEventAt - receivedAt }),
    complete: summary.complete,
    messageId: summary.messageId,
    usage: summary.usage,
    stopReason: summary.stopReason,
    error: summary.error,
  };
}

/**
 * The answer's events, asked for only when the client stream reads its first (it pings while it
 * waits). After that its reads go straight to the answer's own iterator: a generator delegating
 * with yield* would cost promises on every event.
 */
function eventsOf(produce: () => Promise<ProviderResponse>): AsyncIterable<StreamEvent> {
  return {
    [Symbol.asyncIterator]() {
      let events: AsyncIterator<StreamEvent> | undefined;
      const iterator: AsyncIterator<StreamEvent> = {
        next: async () => {
          const response = await produce();
          events = (response.kind === 'stream' ? response.events : fromArray(replayEvents(response.message)))[Symbol.asyncIterator]();
          const answer = events;
          iterator.next = () => answer.next();
          return answer.next();
        },
        return: async () => {
          await events?.return?.();
          return { done: true, value: undefined };
        },
      };
      return iterator;
    },
  };
}

function fromArray<T>(items: readonly T[]): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator]() {
      let next = 0;
      return {
        next: () => Promise.resolve(next < items.length ? { done: false, value: items[next++]! } : { done: true, value: undefined }),
      };
    },
  };
}

function logOutcome(ctx: ProxyContext, outcome: Outcome): void {
  const fields = {
    status: outcome.error?.status ?? outcome.status,
    // A failure names the backend, endpoint and model it was routed to.
    backend: outcome.backend ?? ctx.route?.backend.name,
    endpoint: ctx.responseHeaders['x-llm-proxy-endpoint'] ?? outcome.error?.endpoint,
    model: outcome.model ?? ctx.route?.model,
    stream: ctx.stream,
    cache: ctx.cache.status,
    tier: ctx.cache.tier,
    ms: outcome.durationMs,
    ttft: outcome.firstEventMs === undefined ? undefined : Math.round(outcome.firstEventMs),
    in: outcome.usage?.input_tokens,
    out: outcome.usage?.output_tokens,
    ...(ctx.attempts.length > 0 ? { tried: ctx.attempts.map((a) => `${a.backend}: ${a.error.code}`).join('; ') } : {}),
  };
  const { error } = outcome;
  if (!error) ctx.log.info(ctx.endpoint, fields);
  else if (error.code !== 'internal_error') ctx.log.warn(`${ctx.endpoint} failed: ${error.message}`, { ...fields, error: error.code });
  else {
    // A bug, not a refusal: the one line that says which plugin and hook threw, and why.
    const failure = failureFields(error);
    ctx.log.error(`${ctx.endpoint} failed: ${failure.reason ?? error.message}`, { ...fields, ...failure });
  }
}

export { errorBody };
