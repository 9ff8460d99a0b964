import { dirname, relative, sep } from 'node:path';
import type { Loader } from 'cosmiconfig';
import { ConfigError } from '../errors.js';
import { OLD_PACKAGE_NAME, PACKAGE_NAME } from '../package-name.js';
import type { ConfigEnv } from './define-config.js';

/** `jiti` rather than cosmiconfig's TS loader, so a config may import other `.ts` files. */
export function scriptLoader(env: NodeJS.ProcessEnv, warn: (message: string) => void): Loader {
  return async (filepath) => {
    const virtualModules = await ownPackage(filepath, warn);
    // Loaded here, not at startup: ~11 MB of RSS that a JSON config or the library never needs.
    const { createJiti } = await import('jiti');
    const jiti = createJiti(import.meta.url, { interopDefault: true, moduleCache: false, virtualModules });
    try {
      const exported = await jiti.import<unknown>(filepath, { default: true });
      if (typeof exported !== 'function') return await exported;
      const configEnv: ConfigEnv = { mode: env.NODE_ENV ?? 'production', env };
      return await (exported as (e: ConfigEnv) => unknown)(configEnv);
    } catch (error) {
      throw scriptError(error, filepath);
    }
  };
}

/**
 * `import { defineConfig } from '@jleechan/llm-proxy-server'` (or `.../plugin`) in a config (and in
 * the files it imports) gets the running proxy's own module: the CLI is usually installed globally, with
 * nothing next to the config, and the plugins a config builds must be the ones this proxy runs.
 * The old name still resolves, with a warning. Type-only imports are erased before this matters.
 */
async function ownPackage(filepath: string, warn: (message: string) => void): Promise<Record<string, unknown>> {
  const self: unknown = await import('../index.js');
  const pluginSurface: unknown = await import('../plugin.js');
  let warned = false;
  const modules: Record<string, unknown> = { [PACKAGE_NAME]: self, [`${PACKAGE_NAME}/plugin`]: pluginSurface };
  Object.defineProperty(modules, OLD_PACKAGE_NAME, {
    enumerable: true,
    get() {
      if (!warned) {
        warned = true;
        warn(
          `${filepath} (or a file it imports) imports '${OLD_PACKAGE_NAME}', the package's old name, which is deprecated: ` +
            `import from '${PACKAGE_NAME}' instead ('${OLD_PACKAGE_NAME}' on npm is an unrelated package)`,
        );
      }
      return self;
    },
  });
  return modules;
}

// jiti reports a syntax error as "ParseError: <reason>\n <file>:<line>:<column from 0>" and never
// quotes the source. An error thrown while the file runs names its file in the stack, but not a
// usable position: the stack counts lines of jiti's transformed code.
const PARSE_ERROR = /^\w*Error: (?<reason>[^\n]*?)\s*\n\s*(?<file>\S[^\n]*):(?<line>\d+):(?<column>\d+)\s*$/;
const STACK_FRAME = /\(?(?:file:\/\/)?(?<file>[^\s()]+):\d+:\d+\)?$/;

function scriptError(error: unknown, configFile: string): unknown {
  if (!(error instanceof Error) || error instanceof ConfigError) return error;
  const parse = PARSE_ERROR.exec(error.message)?.groups;
  if (parse) {
    const { reason, file = configFile, line, column } = parse;
    return new ConfigError(`could not load${importedBy(file, configFile)}: syntax error at line ${line}, column ${Number(column) + 1}: ${reason}`, { file });
  }
  const frame = error.stack
    ?.split('\n')
    .map((line) => STACK_FRAME.exec(line.trim())?.groups)
    .find((groups) => groups?.file !== undefined && isUserFile(groups.file, configFile));
  if (!frame?.file) return error;
  return new ConfigError(
    `could not load${importedBy(frame.file, configFile)}: ${error.name}: ${safeReason(error)}`,
    { file: frame.file },
  );
}

const importedBy = (file: string, configFile: string): string => (file === configFile ? '' : ` (imported by ${configFile})`);

function isUserFile(file: string, configFile: string): boolean {
  const inside = relative(dirname(configFile), file);
  return !inside.startsWith('..') && !inside.split(sep).includes('node_modules');
}

/** `csk_live_123 is not defined` is a key written without quotes: name only plain words. */
function safeReason(error: Error): string {
  const undefinedName = /^(?<name>\S+) is not defined$/.exec(error.message)?.groups?.name;
  if (error.name === 'ReferenceError' && undefinedName && !/^[A-Za-z$]{1,32}$/.test(undefinedName)) {
    return 'a name that is not defined (a missing import, or a value missing its quotes?)';
  }
  return error.message.split('\n')[0] ?? '';
}
