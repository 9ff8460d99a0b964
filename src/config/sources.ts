import { stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { cosmiconfig, defaultLoaders } from 'cosmiconfig';
import { ConfigError } from '../errors.js';
import { scriptLoader } from './script-loader.js';

export const CONFIG_SEARCH_PLACES = [
  'package.json',
  '.llmrc.json',
  '.llmrc',
  'llm-proxy.config.ts',
  'llm-proxy.config.mts',
  'llm-proxy.config.js',
  'llm-proxy.config.mjs',
  '.config/llm-proxy.json',
] as const;

export const globalConfigPath = (home: string = homedir()): string => join(home, '.llm-proxy', 'config.json');

export type Explorer = ReturnType<typeof cosmiconfig>;

export function createExplorer(env: NodeJS.ProcessEnv, warn: (message: string) => void): Explorer {
  const script = scriptLoader(env, warn);
  return cosmiconfig('llm-proxy', {
    searchPlaces: [...CONFIG_SEARCH_PLACES],
    packageProp: 'llm-proxy',
    // One directory per call: the walk up (stopping at home) is ours, and no XDG global dir is read.
    searchStrategy: 'none',
    cache: false,
    loaders: {
      '.json': jsonLoader,
      noExt: dataLoader,
      '.js': script,
      '.mjs': script,
      '.cjs': script,
      '.ts': script,
      '.mts': script,
      '.cts': script,
    },
  });
}

// Parser messages may quote the file's text (and so a key); these keep only the reason and position.
function jsonLoader(_filepath: string, content: string): unknown {
  try {
    return JSON.parse(content);
  } catch (error) {
    // eslint-disable-next-line preserve-caught-error -- the parser's message may quote a key from the file: keep only what describeJsonError says
    throw new Error(describeJsonError(error, content));
  }
}

async function dataLoader(filepath: string, content: string): Promise<unknown> {
  if (content.trimStart().startsWith('{')) return jsonLoader(filepath, content);
  try {
    return await defaultLoaders.noExt(filepath, content);
  } catch (error) {
    const { reason, mark } = (error ?? {}) as { reason?: string; mark?: { line: number; column: number } };
    const where = mark ? ` at line ${mark.line + 1}, column ${mark.column + 1}` : '';
    // eslint-disable-next-line preserve-caught-error -- the YAML error may quote a key from the file: keep only its reason and position
    throw new Error(`invalid YAML/JSON${where}${reason ? `: ${reason}` : ''}`);
  }
}

export function describeJsonError(error: unknown, content: string): string {
  const message = error instanceof Error ? error.message : '';
  const reason = message.split(/, "| in JSON at| \(line /)[0] ?? '';
  const position = /at position (\d+)/.exec(message)?.[1];
  let where = '';
  if (position !== undefined) {
    const before = content.slice(0, Number(position)).split('\n');
    where = ` at line ${before.length}, column ${(before.at(-1)?.length ?? 0) + 1}`;
  }
  return `invalid JSON${where}${reason ? `: ${reason}` : ''}`;
}

interface Found {
  config: unknown;
  filepath: string;
}

export async function loadFile(explorer: Explorer, filepath: string): Promise<unknown> {
  const found = await guard(filepath, () => explorer.load(filepath));
  return found && !found.isEmpty ? found.config : {};
}

export async function loadExplicit(explorer: Explorer, filepath: string): Promise<Found> {
  if (!(await exists(filepath))) throw new ConfigError('config file not found', { file: filepath });
  const found = await guard(filepath, () => explorer.load(filepath));
  if (!found || found.isEmpty) {
    throw new ConfigError('holds no llm-proxy configuration (empty, or no "llm-proxy" key)', { file: filepath });
  }
  return { config: found.config, filepath: found.filepath };
}

export async function searchProject(explorer: Explorer, cwd: string, home: string): Promise<Found | undefined> {
  for (let dir = cwd; ; dir = dirname(dir)) {
    const found = await guard(dir, () => explorer.search(dir));
    if (found && !found.isEmpty) return { config: found.config, filepath: found.filepath };
    if (dir === home || dirname(dir) === dir) return undefined;
  }
}

async function guard<T>(where: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const file = (error as { filepath?: unknown } | null)?.filepath;
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError(`could not load: ${reason}`, { file: typeof file === 'string' ? file : where });
  }
}

export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isFile(),
    () => false,
  );
}
