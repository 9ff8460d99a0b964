import { ConfigError, type BackendRegistry, type Plugin } from '../../src/plugin.js';
import { OllamaBackend } from './backend.js';
import { OLLAMA_URL, ollamaBackendOptions, ollamaOptions } from './options.js';

export interface OllamaPluginOptions {
  /** Default URL for every `ollama` backend without its own `url`. Default `http://127.0.0.1:11434`. */
  url?: string;
  /** At start, check that each backend's model is pulled and can call tools (warnings only). Default true. */
  checkModels?: boolean;
}

export { OllamaBackend } from './backend.js';
export { createOllamaEmbedder, type Embedder, type OllamaEmbedderOptions } from './embed.js';
export { DEFAULT_NUM_CTX, OLLAMA_URL, ollamaOptions, type OllamaBackendConfig, type OllamaBackendOptions } from './options.js';
export type { OllamaKeepAlive, OllamaThink } from './types.js';

/** Provider type `ollama`: Ollama's native `/api/chat`, with model checks and embeddings. */
export function ollama(options: OllamaPluginOptions = {}): Plugin {
  const defaultUrl = validUrl(options.url);
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
      if (options.checkModels === false || !backends) return;
      const registry = backends;
      const ours = registry.names().map((name) => registry.get(name)).filter((b): b is OllamaBackend => b instanceof OllamaBackend);
      // Bounded (5 s a check) and never failing: an Ollama that is not up yet is only a warning.
      await Promise.all(ours.map((backend) => backend.checkModel()));
    },
  };
}

function validUrl(url: string | undefined): string {
  if (url === undefined) return OLLAMA_URL;
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') return url;
  } catch {
    // reported below
  }
  throw new ConfigError('must be an http:// or https:// URL', { field: 'plugins.ollama.url' });
}

export default ollama;
