import type { ServerFormat } from '../../../config/types.js';
import { ConfigError } from '../../../errors.js';
import type { Backend, BackendSpec, Plugin, ProviderEnv, ProviderRegistry } from '../../../kernel/types.js';

const FORMATS: readonly ServerFormat[] = ['anthropic', 'openai', 'ollama'];

/** A backend's `format`, or `fallback` when it has none. */
export function formatOf(spec: BackendSpec, fallback: ServerFormat): ServerFormat {
  const format = spec.options.format ?? fallback;
  const known = FORMATS.find((f) => f === format);
  if (known) return known;
  throw new ConfigError(`unknown format ${JSON.stringify(format)} (use "anthropic", "openai" or "ollama")`, {
    field: `backends.${spec.name}.format`,
  });
}

/**
 * Builds the backend with the provider of its wire format. Each format is named after the type
 * that speaks it; `ollama` is registered by the ollama plugin, which may be absent.
 */
export function buildWithFormat(providers: ProviderRegistry, format: ServerFormat, spec: BackendSpec, env: ProviderEnv): Backend {
  const factory = providers.factory(format);
  if (factory) return factory(spec, env);
  const advice =
    format === 'ollama'
      ? 'format "ollama" needs the ollama plugin, which registers the "ollama" backend type: add it to `plugins`, or use format "openai" (Ollama\'s /v1)'
      : `format "${format}" needs the plugin that registers the "${format}" backend type`;
  throw new ConfigError(advice, { field: `backends.${spec.name}.format` });
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
      providers.register('self-hosted', (spec, env) => buildWithFormat(providers, formatOf(spec, 'anthropic'), spec, env));
    },
  };
}
