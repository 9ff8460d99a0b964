import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Examples import the package by name, as users do; run them against the sources. The old
    // name `llm-proxy` still resolves while it is supported.
    alias: {
      '@jleechan/llm-proxy-server/plugin': fileURLToPath(new URL('./src/plugin.ts', import.meta.url)),
      '@jleechan/llm-proxy-server': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
      'llm-proxy': fileURLToPath(new URL('./src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['tests/**/*.test.ts', 'src/**/*.test.ts', 'plugins/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
