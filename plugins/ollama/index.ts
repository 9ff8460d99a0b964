import { parsePluginOptions, type BackendRegistry, type Plugin } from '../../src/plugin.js';
import { OllamaBackend } from './backend.js';
import { OLLAMA_URL, ollamaBackendOptions, ollamaOptions, ollamaPluginOptions, type OllamaPluginOptions } from './options.js';

export { OllamaBackend } from './backend.js';
export { createOllamaEmbedder, type Embedder, type OllamaEmbedderOptions } from './embed.js';
export {
  DEFAULT_NUM_CTX,
  OLLAMA_URL,
  ollamaOptions,
  ollamaPluginOptions,
  type OllamaBackendConfig,
  type OllamaBackendOptions,
  type OllamaPluginOptions,
} from './options.js';
export type { OllamaKeepAlive, OllamaThink } from './types.js';

/** Provider type `ollama`: Ollama's native `/api/chat`, with model checks and embeddings. */
export function ollama(options: OllamaPluginOptions = {}): Plugin {
  const checked = parsePluginOptions('ollama', ollamaPluginOptions, options);
  const defaultUrl = checked.url ?? OLLAMA_URL;
  let backends: BackendRegistry | undefined;
  return {
    name: 'ollama',
    apply(api) {
      backends = api.backends;
      api.providers.register('ollama', {
        options: ollamaOptions,
        create: (spec, env) => new OllamaBackend(spec.type, ollamaBackendOptions(spec, env.server, defaultUrl), env),
      });
    },
    async ready() {
      if (checked.checkModels === false || !backends) return;
      const registry = backends;
      const ours = registry.names().map((name) => registry.get(name)).filter((b): b is OllamaBackend => b instanceof OllamaBackend);
      // Bounded (5 s a check) and never failing: an Ollama that is not up yet is only a warning.
      await Promise.all(ours.map((backend) => backend.checkModel()));
    },
  };
}

export default ollama;
