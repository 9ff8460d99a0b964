// The TypeScript types users write their config against, checked by the real compiler: a typo
// in `defineConfig` is a type error naming the misspelt key, at the top level and inside a
// backend, and a third-party provider's backend type (the echo example) type-checks by
// declaration merging on `BackendTypes`.

import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ECHO = join(ROOT, 'examples/echo-provider');

/** Snippets compiled as if they were files in the repository root (imports resolve as in a project). */
const SNIPPETS = {
  valid: `import { defineConfig } from '@jleechan/llm-proxy-server';
export default defineConfig({
  backend: 'local',
  port: 'auto',
  backends: {
    local: { type: 'ollama', model: 'qwen3-coder:30b', numCtx: 32768 },
    gpu: { type: 'openai', url: 'http://127.0.0.1:8001/v1', model: 'qwen3-coder' },
    cloud: { type: 'cerebras', apiKey: '\${CEREBRAS_API_KEY}' },
  },
});`,
  topLevel: `import { defineConfig } from '@jleechan/llm-proxy-server';
export default defineConfig({ backnd: 'local' });`,
  inBackend: `import { defineConfig } from '@jleechan/llm-proxy-server';
export default defineConfig({ backends: { local: { type: 'ollama', modle: 'qwen3-coder:30b' } } });`,
  unknownType: `import { defineConfig } from '@jleechan/llm-proxy-server';
export default defineConfig({ backends: { local: { type: 'olama', model: 'qwen3-coder:30b' } } });`,
  echoTypo: `import { defineConfig } from '@jleechan/llm-proxy-server';
import { echoProvider } from './examples/echo-provider/index.js';
export default defineConfig({ backends: { e: { type: 'echo', modle: 'echo-1' } }, plugins: [echoProvider()] });`,
} as const;
type Snippet = keyof typeof SNIPPETS;

const snippetFile = (name: Snippet) => join(ROOT, `__config-types-${name}.ts`);

let diagnosticsOf: (file: string) => string[];

beforeAll(() => {
  const configFile = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  const virtual = new Map<string, string>(Object.entries(SNIPPETS).map(([name, text]) => [snippetFile(name as Snippet), text]));
  const host = ts.createCompilerHost({ ...parsed.options, noEmit: true });
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (file) => virtual.has(file) || fileExists(file);
  host.readFile = (file) => virtual.get(file) ?? readFile(file);
  host.getSourceFile = (file, language, onError) => {
    const text = virtual.get(file);
    return text === undefined ? getSourceFile(file, language, onError) : ts.createSourceFile(file, text, language);
  };
  const roots = [...virtual.keys(), join(ECHO, 'index.ts'), join(ECHO, 'llm-proxy.config.ts')];
  const program = ts.createProgram({ rootNames: roots, options: { ...parsed.options, noEmit: true }, host });
  diagnosticsOf = (file) => {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not in the program: ${file}`);
    return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) =>
      ts.flattenDiagnosticMessageText(d.messageText, '\n'),
    );
  };
}, 120_000);

describe('defineConfig types', () => {
  it('accept a valid config', () => {
    expect(diagnosticsOf(snippetFile('valid'))).toEqual([]);
  });

  it('name a misspelt top-level key and the type it is not in', () => {
    const [message, ...more] = diagnosticsOf(snippetFile('topLevel'));
    expect(more).toEqual([]);
    expect(message).toContain("'backnd' does not exist in type 'UserConfig'");
    expect(message).not.toContain('UserConfigFn');
  });

  it('name a misspelt key inside a backend, with the backend type it is not in', () => {
    const [message, ...more] = diagnosticsOf(snippetFile('inBackend'));
    expect(more).toEqual([]);
    expect(message).toContain("'modle' does not exist in type 'OllamaBackendConfig'");
  });

  it('reject a backend type nobody declared, listing the known ones', () => {
    const [message] = diagnosticsOf(snippetFile('unknownType'));
    expect(message).toContain('"olama"');
    expect(message).toContain('"ollama"');
  });

  it("check a third-party provider's own backend type (examples/echo-provider)", () => {
    expect(diagnosticsOf(join(ECHO, 'index.ts'))).toEqual([]);
    expect(diagnosticsOf(join(ECHO, 'llm-proxy.config.ts'))).toEqual([]);
    const [message, ...more] = diagnosticsOf(snippetFile('echoTypo'));
    expect(more).toEqual([]);
    expect(message).toContain("'modle' does not exist in type 'EchoBackendConfig'");
  });
});
