// Run: llm-proxy start --config examples/echo-provider/llm-proxy.config.ts
import { defineConfig } from '@jleechan/llm-proxy-server';
import { echoProvider } from './index.js';

export default defineConfig({
  backend: 'echo',
  port: 'auto',
  backends: {
    echo: { type: 'echo', model: 'echo-1' },
  },
  plugins: [echoProvider({ prefix: 'echo: ' })],
});
