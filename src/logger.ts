import pc from 'picocolors';
import { SecretScrubber } from './secrets/scrubber.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };
const COLOUR: Record<Exclude<LogLevel, 'silent'>, (s: string) => string> = {
  debug: pc.gray,
  info: pc.cyan,
  warn: pc.yellow,
  error: pc.red,
};

export type LogSink = (line: string) => void;

export interface LoggerOptions {
  level?: LogLevel;
  /** `json` for machines, `pretty` for a terminal. */
  format?: 'json' | 'pretty';
  sink?: LogSink;
  /**
   * Values that must never appear in output (API keys, passwords); they and their encoded forms
   * (URL-encoded, JSON-escaped, base64 as in a Basic header) are replaced by `[redacted]`.
   */
  secrets?: () => Iterable<string>;
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  return build(options, bound, scrubberSource(options));
}

/** The scrubber for the current secrets, rebuilt only when they change (shared by child loggers). */
function scrubberSource(options: LoggerOptions): () => SecretScrubber {
  let last: { source: Iterable<string>; key: string; scrubber: SecretScrubber } | undefined;
  return () => {
    if (!options.secrets) return SecretScrubber.none;
    const source = options.secrets();
    if (last?.source === source) return last.scrubber;
    const values = [...source];
    const key = values.join('\0');
    last = { source, key, scrubber: last?.key === key ? last.scrubber : new SecretScrubber(values) };
    return last.scrubber;
  };
}

function build(options: LoggerOptions, bound: LogFields, scrubber: () => SecretScrubber): Logger {
  const level = options.level ?? 'info';
  const format = options.format ?? 'pretty';
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));

  const write = (lvl: Exclude<LogLevel, 'silent'>, raw: string, fields?: LogFields) => {
    if (ORDER[lvl] < ORDER[level]) return;
    // Scrubbed before formatting, so a JSON line stays valid JSON.
    const scrub = scrubber();
    const message = scrub.text(raw);
    const all: LogFields = {};
    for (const [key, value] of Object.entries({ ...bound, ...fields })) all[key] = typeof value === 'string' ? scrub.text(value) : value;
    let line: string;
    if (format === 'json') {
      line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg: message, ...all });
    } else {
      const extras = Object.entries(all)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${pc.dim(k + '=')}${String(v)}`)
        .join(' ');
      line = `${pc.dim(new Date().toISOString().slice(11, 23))} ${COLOUR[lvl](lvl.padEnd(5))} ${message}${extras ? ' ' + extras : ''}`;
    }
    sink(line);
  };

  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => build(options, { ...bound, ...fields }, scrubber),
  };
}
