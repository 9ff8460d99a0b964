/** `llm-proxy.config.ts` for a workspace. Its only import is a type import, erased when it loads. */
export const WORKSPACE_TEMPLATE = `// llm-proxy configuration for this workspace (written by \`llm-proxy setup\`).
//
// The proxy finds this file from this directory and below; it wins over the environment
// (LLM_PROXY_PORT, LLM_BACKEND, ...) and over the global ~/.llm-proxy/config.json.
// A running \`llm-proxy start\` watches this file and applies each edit as you save it (new
// requests use it; an invalid edit is reported and the running config stays). Only a change
// of \`host\` or \`port\` needs a restart.
//
// The \`satisfies\` line at the end is for your editor's type checking (which needs the package
// in this project: npm install -D @jleechan/llm-proxy-server). The proxy itself needs no local
// install, also when you write instead:
//   import { defineConfig } from '@jleechan/llm-proxy-server';
//   export default defineConfig({ ... });
//
// Secrets: do not write keys here. "\${CEREBRAS_API_KEY}" is replaced by that environment
// variable when the proxy starts ("\${VAR:-fallback}" gives a default).

export default {
  // Where requests go. Switch a running proxy with \`llm-proxy switch <name>\`, or pick one per
  // request in Claude Code with \`/model <name>\` or \`/model <name>/<model>\`.
  backend: 'cerebras',

  // 'auto' gives this workspace its own port (18000-18999, derived from its path), the same on
  // every start, so Claude Code sessions keep a working ANTHROPIC_BASE_URL; \`llm-proxy env\`
  // and \`llm-proxy status\` show it. Or a fixed number such as 8000.
  port: 'auto',

  backends: {
    // Cerebras: fast managed inference. Export CEREBRAS_API_KEY (https://cloud.cerebras.ai).
    // Cerebras retires models often: \`llm-proxy status\` and GET /v1/models show what it offers.
    cerebras: {
      type: 'cerebras',
      apiKey: '\${CEREBRAS_API_KEY}',
      model: 'gpt-oss-120b',
    },

    // A local Ollama through its native API (sets num_ctx so Claude Code's long prompts are not
    // cut). First: \`ollama pull qwen3-coder:30b\`.
    ollama: {
      type: 'ollama',
      url: 'http://127.0.0.1:11434',
      model: 'qwen3-coder:30b',
      numCtx: 65536,
    },

    // A rented GPU (vast.ai, RunPod) running vLLM, llama.cpp, Ollama or LiteLLM, reached through
    // an open port or an SSH tunnel, e.g. \`ssh -N -L 8001:localhost:8000 -p <port> root@<host>\`.
    // 'vast-ai': {
    //   type: 'self-hosted',
    //   url: 'http://127.0.0.1:8001/v1',
    //   format: 'openai', // or 'anthropic' for servers that speak the Messages API
    //   model: 'Qwen/Qwen3-Coder-30B-A3B-Instruct',
    //   // apiKey: '\${VAST_API_KEY}', // if the server checks one
    // },
  },

  // Listening beyond 127.0.0.1 (host: '0.0.0.0') requires client keys:
  // auth: { keys: ['\${LLM_PROXY_CLIENT_KEY}'] },
} satisfies import('@jleechan/llm-proxy-server').UserConfig;
`;

/** `~/.llm-proxy/config.json`: every workspace's settings, under the workspace's own config. */
export const GLOBAL_TEMPLATE = {
  backend: 'ollama',
  port: 8000,
  backends: {
    ollama: { type: 'ollama', url: 'http://127.0.0.1:11434', model: 'qwen3-coder:30b' },
  },
};
