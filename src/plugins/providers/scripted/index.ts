import { randomId } from '../../../random-id.js';
import type { Message, MessagesRequest, ResponseContentBlock } from '../../../anthropic/types.js';
import { scriptedOptions, type ScriptedOptions, type ScriptedResponse } from './options.js';
import { ProxyError } from '../../../errors.js';
import type { Backend, BackendSpec, Plugin, ProviderResponse, UpstreamCall } from '../../../kernel/types.js';
import { estimateInputTokens } from '../../../anthropic/estimate-tokens.js';
import { createModelResolver } from '../../../plugin-kit/model-mapping.js';

const id = (prefix: string) => `${prefix}_${randomId(12, 'base64url')}`;

/**
 * A backend for users' own tests: answers from a list of canned responses in order (the
 * last one repeats), with no network. `requests` records what it was asked. Its answers depend
 * on the call order, not the request, so the cache leaves them alone unless `cache` asks.
 */
export class ScriptedBackend implements Backend {
  readonly name: string;
  readonly type = 'scripted';
  readonly cacheByDefault = false;
  readonly resolveModel: (requested: string) => string;
  readonly requests: MessagesRequest[] = [];
  readonly #responses: ScriptedResponse[];

  constructor(spec: BackendSpec<ScriptedOptions>) {
    this.name = spec.name;
    this.#responses = spec.options.responses;
    this.resolveModel = createModelResolver(spec.options);
  }

  async invoke(call: UpstreamCall): Promise<ProviderResponse> {
    this.requests.push(call.request);
    const next = this.#responses[Math.min(this.requests.length - 1, this.#responses.length - 1)]!;
    if ('error' in next) {
      throw new ProxyError(next.error.message, { code: 'scripted_error', type: next.error.type, status: next.error.status, backend: this.name });
    }
    if ('events' in next) {
      const events = next.events;
      return { kind: 'stream', events: (async function* () { yield* events; })() };
    }
    const content: ResponseContentBlock[] = [];
    if (next.text) content.push({ type: 'text', text: next.text });
    if ('toolUse' in next) {
      content.push({ type: 'tool_use', id: next.toolUse.id ?? id('toolu'), name: next.toolUse.name, input: next.toolUse.input });
    }
    const message: Message = {
      id: id('msg'),
      type: 'message',
      role: 'assistant',
      model: call.model,
      content,
      stop_reason: 'toolUse' in next ? 'tool_use' : (next.stopReason ?? 'end_turn'),
      stop_sequence: null,
      usage: { input_tokens: estimateInputTokens(call.request), output_tokens: Math.max(1, Math.ceil(JSON.stringify(content).length / 4)) },
    };
    return { kind: 'message', message };
  }

  async health() {
    return { status: 'ok' as const, latencyMs: 0 };
  }

  describe() {
    return { type: this.type, responses: this.#responses.length };
  }
}

/** Built-in provider type `scripted`. */
export function scriptedProvider(): Plugin {
  return {
    name: 'scripted-provider',
    apply({ providers }) {
      providers.register('scripted', { options: scriptedOptions, create: (spec) => new ScriptedBackend(spec) });
    },
  };
}
