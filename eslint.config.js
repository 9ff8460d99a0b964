// ESLint flat config. `npm run lint` runs it and `npm test` runs lint after the typecheck.
//
// Type-aware rules read tsconfig.json through typescript-eslint's project service, so every
// linted .ts file must be in that tsconfig's `include`.
//
// Disabling a rule needs a reason on the same line, after `--`:
//   // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the SDK types this as any
// eslint-comments/require-description enforces that; a directive that no longer suppresses
// anything is an error too (reportUnusedDisableDirectives).
import eslintComments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    ignores: ['dist/', 'node_modules/', 'coverage/'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  eslintComments.recommended,
  {
    rules: {
      // `const` would put a variable that a callback reads before its one assignment in the TDZ.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@eslint-community/eslint-comments/require-description': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `import type { A }`, or `import { b, type A }` beside values, as the code writes them.
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports' }],
      // Type-aware: a promise nobody awaits, catches or marks `void` can reject unhandled.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // `const { omitted: _omitted, ...rest } = value` is how the code drops a field.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { ignoreRestSiblings: true, argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      // Off: dropping `async` from a function without `await` turns a throw into a synchronous
      // one, which changes behaviour for callers that only `.catch` the promise.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // Tests read parsed JSON (`JSON.parse(res.text).content[0].text`) and compare with vitest's
    // asymmetric matchers (`expect.any(String)`), both typed `any`: the assertion is the check.
    // no-explicit-any still holds here, so a test cannot declare `any` itself.
    files: ['tests/**/*.ts', 'plugins/*/tests/**/*.ts', '**/*.test.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    // First-party plugins and the examples reach the core through the plugin surface only
    // (src/plugin.ts, published as `@jleechan/llm-proxy-server/plugin`), never its files.
    files: ['plugins/**/*.ts', 'examples/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src/(?!plugin\\.js$)',
              message: 'import from the plugin surface (src/plugin.ts, `@jleechan/llm-proxy-server/plugin`), not from core files',
            },
          ],
        },
      ],
    },
  },
  {
    // Import cycles, resolved the way tsc resolves them: `./x.js` in a .ts file is `./x.ts`.
    files: ['**/*.ts', '**/*.mjs', '**/*.js'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.mjs', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [
        createNodeResolver({
          extensions: ['.ts', '.mjs', '.js', '.json', '.node'],
          extensionAlias: { '.js': ['.ts', '.js'], '.mjs': ['.mts', '.mjs'] },
          tsconfig: { configFile: `${import.meta.dirname}/tsconfig.json` },
        }),
      ],
    },
    rules: {
      // A chain through a dynamic import() is allowed: config/script-loader.ts lazily imports the
      // package's own entry (src/index.ts) to hand it to a user's config, long after it loaded.
      'import-x/no-cycle': ['error', { ignoreExternal: true, allowUnsafeDynamicCyclicDependency: true }],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: globals.node },
  },
);
