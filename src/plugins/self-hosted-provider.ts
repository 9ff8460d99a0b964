import { ConfigError } from '../errors.js';
import type { Plugin } from '../kernel/types.js';
import { AnthropicBackend } from './anthropic-provider.js';
import { createOpenAIBackend } from './openai-provider.js';

/**
 * `type: "self-hosted"` (the shape the older proxies used): a server on a rented GPU or
 * a tunnel, speaking `format: "anthropic"` (default) or `"openai"`.
 */
export function selfHostedProvider(): Plugin {
  return {
    name: 'self-hosted-provider',
    dependencies: ['openai-provider', 'anthropic-provider'],
    apply({ providers }) {
      providers.register('self-hosted', (spec, env) => {
        const format = spec.options.format ?? 'anthropic';
        if (format === 'openai') return createOpenAIBackend(spec, env);
        if (format === 'anthropic') return new AnthropicBackend(spec, env);
        throw new ConfigError(`unknown format ${JSON.stringify(format)} (use "anthropic" or "openai")`, {
          field: `backends.${spec.name}.format`,
        });
      });
    },
  };
}
