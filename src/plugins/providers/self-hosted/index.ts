import { ConfigError } from '../../../errors.js';
import type { Backend, BackendSpec, Plugin, ProviderEnv, ProviderRegistry } from '../../../kernel/types.js';
import { requireUrlOrTunnel } from '../../../plugin-kit/backend-schema.js';
import { selfHostedOptions, type ServerFormat } from './options.js';

export { formatOption, SERVER_FORMATS, type SelfHostedBackendConfig, type ServerFormat, type WithFormat } from './options.js';

/**
 * Builds the backend with the provider of its wire format, which checks the rest of the entry
 * against its own schema. Each format is named after the type that speaks it; `ollama` is
 * registered by the ollama plugin, which may be absent.
 */
export function buildWithFormat(providers: ProviderRegistry, format: ServerFormat, spec: BackendSpec, env: ProviderEnv): Backend {
  const factory = providers.factory(format);
  if (factory) {
    const { format: _format, ...rest } = spec.options;
    return factory({ ...spec, options: rest }, env);
  }
  const advice =
    format === 'ollama'
      ? 'format "ollama" needs the ollama plugin, which registers the "ollama" backend type: add it to `plugins`, or use format "openai" (Ollama\'s /v1)'
      : `format "${format}" needs the plugin that registers the "${format}" backend type`;
  throw new ConfigError(advice, { file: spec.file, field: `backends.${spec.name}.format` });
}

/**
 * `type: "self-hosted"` (the shape the older proxies used): a server on a rented GPU or a
 * tunnel, speaking `format: "anthropic"` (default), `"openai"` or `"ollama"`.
 */
export function selfHostedProvider(): Plugin {
  return {
    name: 'self-hosted-provider',
    dependencies: ['openai-provider', 'anthropic-provider'],
    apply({ providers }) {
      providers.register('self-hosted', {
        options: selfHostedOptions.superRefine(requireUrlOrTunnel),
        create: (spec, env) => buildWithFormat(providers, spec.options.format ?? 'anthropic', spec, env),
      });
    },
  };
}
