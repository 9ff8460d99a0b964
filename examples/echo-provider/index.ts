// A complete provider plugin: backends of `type: "echo"` answer with the last user text.
// It shows the whole contract: a factory with typed options, validated at start-up, that
// registers a backend type with its options schema; the Backend it builds maps models,
// answers, and reports health. It imports only the plugin surface of the package.
import {
  createModelResolver,
  parsePluginOptions,
  type Backend,
  type BackendSpec,
  type Logger,
  type Message,
  type Plugin,
  type ProviderResponse,
  type UpstreamCall,
} from '@jleechan/llm-proxy-server/plugin';
import { echoOptions, echoPluginOptions, type EchoOptions, type EchoPluginOptions } from './options.js';

export type { EchoBackendConfig, EchoPluginOptions } from './options.js';

function lastUserText(call: UpstreamCall): string {
  const last = [...call.request.messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.flatMap((block) => (block.type === 'text' ? [block.text] : [])).join('\n');
}

function echoBackend(spec: BackendSpec<EchoOptions>, defaultPrefix: string, logger: Logger): Backend {
  const prefix = spec.options.prefix ?? defaultPrefix;
  return {
    name: spec.name,
    type: spec.type,
    // `model` and `models` are keys every backend type accepts; the resolver applies them.
    resolveModel: createModelResolver(spec.options),
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
  };
}

export function echoProvider(options: EchoPluginOptions = {}): Plugin {
  // Throws a ConfigError naming `plugins.echo-provider.<field>` at start-up.
  const prefix = parsePluginOptions('echo-provider', echoPluginOptions, options).prefix ?? '';
  return {
    name: 'echo-provider',
    apply({ providers, logger }) {
      providers.register('echo', { options: echoOptions, create: (spec) => echoBackend(spec, prefix, logger) });
    },
  };
}

export default echoProvider;
