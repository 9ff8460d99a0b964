// A complete provider plugin: backends of `type: "echo"` answer with the last user text.
// It shows the whole contract: a factory with typed options, validated at start-up, that
// registers a provider type; the Backend it builds maps models, answers, and reports health.
import type { Backend, BackendCommon, Message, Plugin, ProviderResponse, UpstreamCall } from '@jleechan/llm-proxy-server';

/** A backend of this type in the config: `{ type: 'echo', model?: 'echo-1' }`. */
export interface EchoBackendConfig extends BackendCommon {
  type: 'echo';
}

// Adds `echo` to llm-proxy's backend types, so `defineConfig` checks echo backends as it checks
// the built-in ones (a misspelt key is a type error naming it).
declare module '@jleechan/llm-proxy-server' {
  interface BackendTypes {
    echo: EchoBackendConfig;
  }
}

export interface EchoPluginOptions {
  /** Text put before every answer. */
  prefix?: string;
}

function lastUserText(call: UpstreamCall): string {
  const last = [...call.request.messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
}

export function echoProvider(options: EchoPluginOptions = {}): Plugin {
  if (options.prefix !== undefined && typeof options.prefix !== 'string') {
    throw new Error('echo-provider: option `prefix` must be a string');
  }
  const prefix = options.prefix ?? '';
  return {
    name: 'echo-provider',
    apply({ providers, logger }) {
      providers.register('echo', (spec): Backend => ({
        name: spec.name,
        type: spec.type,
        resolveModel: (requested) => (typeof spec.options.model === 'string' ? spec.options.model : requested),
        async invoke(call): Promise<ProviderResponse> {
          const text = prefix + lastUserText(call);
          logger.debug('echoing', { backend: spec.name, chars: text.length });
          const message: Message = {
            id: `msg_echo_${Date.now()}`,
            type: 'message',
            role: 'assistant',
            model: call.model,
            content: [{ type: 'text', text }],
            stop_reason: 'end_turn',
            stop_sequence: null,
            usage: { input_tokens: 0, output_tokens: Math.ceil(text.length / 4) },
          };
          // A provider may return a whole message or a stream of Anthropic events; the
          // kernel converts either way to what the client asked for.
          return { kind: 'message', message };
        },
        async health() {
          return { status: 'ok' };
        },
        describe: () => ({ type: spec.type, prefix }),
      }));
    },
  };
}

export default echoProvider;
