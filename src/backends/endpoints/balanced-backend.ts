import type { MessagesRequest, StreamEvent } from '../../anthropic/types.js';
import { toProxyError, type ProxyError } from '../../errors.js';
import type { ProviderResponse, UpstreamCall } from '../../kernel/types.js';
import { isClientFault } from '../../plugin-kit/failure-kind.js';
import { peekFirst } from '../../anthropic/peek-first.js';
import type { Backend, BackendHealth, EndpointHealth } from '../types.js';
import { AffinityRing } from './affinity-ring.js';
import type { Endpoint } from './endpoint.js';

/** A session may have this much more than an even share of the requests in flight before it spills over. */
const LOAD_FACTOR = 1.25;
const SESSION_HEADER = 'x-claude-code-session-id';

/**
 * One backend served by several endpoints (`endpoints: [...]`, e.g. rented GPUs with the same
 * model): each request goes to the endpoint with the fewest requests in flight among those up,
 * except that requests of one Claude Code session stay on one endpoint (consistent hashing with
 * bounded load), so its prompt prefix cache stays warm. An endpoint that fails before answering
 * is taken out at once and the request tries the next one; a probe brings it back.
 */
export class BalancedBackend implements Backend {
  readonly type: string;
  readonly resolveModel: (requested: string) => string;
  readonly cacheByDefault: boolean | undefined;
  readonly #ring: AffinityRing;
  #cursor = 0;

  constructor(
    readonly name: string,
    readonly endpoints: readonly Endpoint[],
  ) {
    const first = endpoints[0]!.backend;
    this.type = first.type;
    this.resolveModel = (requested) => first.resolveModel(requested);
    this.cacheByDefault = first.cacheByDefault;
    this.#ring = new AffinityRing(endpoints.map((endpoint) => endpoint.label));
    this.isAnthropicApi = first.isAnthropicApi;
    if (first.embed) this.embed = (texts, signal) => this.#anyUp().backend.embed!(texts, signal);
    // The endpoints serve the same model: any one that is up can describe it and count for it.
    if (first.modelInfo) this.modelInfo = (model, signal) => this.#anyUp().backend.modelInfo!(model, signal);
    if (first.countTokens) this.countTokens = (request, model, signal) => this.#anyUp().backend.countTokens!(request, model, signal);
  }

  readonly isAnthropicApi: boolean | undefined;
  embed?: (texts: string[], signal?: AbortSignal) => Promise<number[][]>;
  modelInfo?: Backend['modelInfo'];
  countTokens?: Backend['countTokens'];

  /** The endpoint for the next request of this session (or of none), skipping `tried`. */
  pick(session: string | undefined, tried: ReadonlySet<Endpoint> = new Set()): Endpoint | undefined {
    const now = Date.now();
    const open = this.endpoints.filter((endpoint) => !tried.has(endpoint));
    const up = open.filter((endpoint) => endpoint.usable(now));
    // Every endpoint is down: the one whose cooldown ends first is still better than no answer.
    if (up.length === 0) return open.sort((a, b) => a.retryAt - b.retryAt)[0];
    if (session !== undefined) {
      const inFlight = up.reduce((sum, endpoint) => sum + endpoint.inFlight, 0);
      const cap = Math.ceil((LOAD_FACTOR * (inFlight + 1)) / up.length);
      for (const index of this.#ring.order(session)) {
        const endpoint = this.endpoints[index]!;
        if (up.includes(endpoint) && endpoint.inFlight < cap) return endpoint;
      }
    }
    let best: Endpoint | undefined;
    // Ties go round the endpoints, so an idle backend still spreads its requests.
    for (let i = 0; i < up.length; i++) {
      const endpoint = up[(this.#cursor + i) % up.length]!;
      if (!best || endpoint.inFlight < best.inFlight) best = endpoint;
    }
    this.#cursor = (this.#cursor + 1) % up.length;
    return best;
  }

  async invoke(call: UpstreamCall): Promise<ProviderResponse> {
    const session = call.context.headers[SESSION_HEADER];
    const key = typeof session === 'string' && session !== '' ? session : undefined;
    const tried = new Set<Endpoint>();
    // Held until an endpoint answers, for the next endpoint if this one fails.
    let request: MessagesRequest | undefined = call.takeRequest();
    let last: ProxyError | undefined;
    for (;;) {
      const endpoint = this.pick(key, tried);
      if (!endpoint || !request) throw this.#allFailed(last, tried);
      tried.add(endpoint);
      endpoint.inFlight++;
      const started = Date.now();
      try {
        // A stream that fails before its first event can still go to the next endpoint.
        const answer = await endpoint.backend.invoke(callFor(call, request));
        const response = answer.kind === 'stream' ? await peekFirst(answer.events, this.name) : answer;
        request = undefined;
        endpoint.succeeded(Date.now() - started);
        call.context.responseHeaders['x-llm-proxy-endpoint'] = endpoint.label;
        return track(response, endpoint, call);
      } catch (thrown) {
        endpoint.inFlight--;
        const error = toProxyError(thrown);
        if (isClientFault(error) || call.signal.aborted) throw error;
        endpoint.failed(error.message);
        last = error;
      }
    }
  }

  #allFailed(last: ProxyError | undefined, tried: ReadonlySet<Endpoint>): ProxyError {
    const error = last ?? toProxyError(new Error(`backend "${this.name}" has no endpoint to try`));
    if (tried.size > 1) error.advise(`every endpoint of backend "${this.name}" failed: ${[...tried].map((e) => e.label).join(', ')}`);
    return error;
  }

  #anyUp(): Endpoint {
    const now = Date.now();
    return this.endpoints.find((endpoint) => endpoint.usable(now)) ?? this.endpoints[0]!;
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    const backend = this.#anyUp().backend;
    if (!backend.listModels) return [];
    return backend.listModels(signal);
  }

  /** Every endpoint probed at once: ok when all answer, degraded when some do, down when none does. */
  async health(signal?: AbortSignal): Promise<BackendHealth> {
    const results = await Promise.all(this.endpoints.map((endpoint) => endpoint.health(signal).catch((error: unknown) => downHealth(error))));
    const endpoints: EndpointHealth[] = results.map((result, i) => {
      const endpoint = this.endpoints[i]!;
      return {
        url: endpoint.label,
        status: result.status,
        inFlight: endpoint.inFlight,
        ...(result.latencyMs !== undefined ? { latencyMs: result.latencyMs } : {}),
        ...(result.detail ? { detail: result.detail } : endpoint.state === 'down' && endpoint.lastFailure ? { detail: endpoint.lastFailure } : {}),
      };
    });
    const upCount = endpoints.filter((endpoint) => endpoint.status !== 'down').length;
    const status = upCount === endpoints.length ? 'ok' : upCount === 0 ? 'down' : 'degraded';
    const answering = results.find((result) => result.status !== 'down');
    return {
      status,
      ...(answering?.latencyMs !== undefined ? { latencyMs: answering.latencyMs } : {}),
      ...(answering?.models ? { models: answering.models } : {}),
      ...(status === 'ok' ? {} : { detail: `${upCount} of ${endpoints.length} endpoints answer` }),
      endpoints,
    };
  }

  describe(): Record<string, string | number | boolean | undefined> {
    const first = this.endpoints[0]!.backend.describe();
    return { ...first, url: this.endpoints.map((endpoint) => endpoint.label).join(', ') };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.endpoints.map((endpoint) => endpoint.backend.close?.() ?? Promise.resolve()));
  }
}

/** The call as one endpoint sees it: the request the balancer holds. */
function callFor(call: UpstreamCall, request: MessagesRequest): UpstreamCall {
  return {
    request,
    takeRequest: () => request,
    model: call.model,
    stream: call.stream,
    signal: call.signal,
    context: call.context,
  };
}

/** Counts the request in flight until its answer ends; a stream that breaks counts against the endpoint. */
function track(response: ProviderResponse, endpoint: Endpoint, call: UpstreamCall): ProviderResponse {
  const { signal } = call;
  if (response.kind === 'message') {
    endpoint.inFlight--;
    return response;
  }
  const events = response.events;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    endpoint.inFlight--;
  };
  const iterate = (): AsyncIterator<StreamEvent> => {
    const upstream = events[Symbol.asyncIterator]();
    return {
      async next() {
        try {
          const result = await upstream.next();
          if (result.done) release();
          return result;
        } catch (thrown) {
          release();
          const error = toProxyError(thrown);
          if (!signal.aborted) {
            endpoint.failed(error.message);
            error.endpoint = endpoint.label;
          }
          // Another attempt (failover, before anything was sent) names its own endpoint, if any.
          delete call.context.responseHeaders['x-llm-proxy-endpoint'];
          throw error;
        }
      },
      async return() {
        release();
        await upstream.return?.();
        return { done: true, value: undefined };
      },
    };
  };
  return { kind: 'stream', events: { [Symbol.asyncIterator]: iterate } };
}

function downHealth(error: unknown): BackendHealth {
  return { status: 'down', detail: error instanceof Error ? error.message : String(error) };
}
