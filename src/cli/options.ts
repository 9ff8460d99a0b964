import { CliError } from './errors.js';

/** `--port 8080` (cac hands numbers over as numbers) or `--port auto`. */
export function parsePortOption(value: unknown): number | 'auto' | undefined {
  if (value === undefined) return undefined;
  if (value === 'auto') return 'auto';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- cac hands over strings, numbers or arrays; anything else is shown as String() writes it
  const text = String(value);
  const port = typeof value === 'number' ? value : /^\d+$/.test(text) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`--port must be a port number (0-65535) or "auto", not ${JSON.stringify(text)}`, { exitCode: 2 });
  }
  return port;
}

/** For commands that talk to a running proxy: `auto` makes no sense there. */
export function parseFixedPort(value: unknown): number | undefined {
  const port = parsePortOption(value);
  if (port === 'auto') throw new CliError('--port needs the number of a running proxy here, not "auto"', { exitCode: 2 });
  return port;
}

export function stringOption(value: unknown, flag: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'number') return String(value);
  throw new CliError(`${flag} needs a value`, { exitCode: 2 });
}
