import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import { LogFile } from './logging/log-file.js';
import { prettyLine } from './logging/pretty-line.js';
import { REDACT_PATHS } from './logging/redact-paths.js';
import { REDACTED, SecretScrubber } from './secrets/scrubber.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
/** `auto`: `pretty` when the lines go to a terminal, `json` otherwise. */
export type LogFormat = 'json' | 'pretty' | 'auto';
export type LogValue = string | number | boolean | null | undefined;
/** Flat fields, or one level of nesting (`headers: { … }`). */
export type LogFields = Record<string, LogValue | Readonly<Record<string, LogValue>>>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** The logger `createLogger` returns: the one that owns the outputs, and so closes them. */
export interface RootLogger extends Logger {
  /** Closes the log file (stderr and a sink stay as they are); later lines still reach them. */
  close(): void;
}

export type LogSink = (line: string) => void;

export interface LoggerOptions {
  level?: LogLevel;
  /** `json` for machines, `pretty` for a terminal; default `auto`. */
  format?: LogFormat;
  /** Receives each line, without its newline, instead of stderr (tests, library mode). */
  sink?: LogSink;
  /**
   * Values that must never appear in output (API keys, passwords); they and their encoded forms
   * (URL-encoded, JSON-escaped, base64 as in a Basic header) are replaced by `[redacted]`.
   */
  secrets?: () => Iterable<string>;
  /** Every line is also appended here, as JSON, to a file of mode 0600. */
  logFile?: string;
}

/** What `auto` means: pretty for a terminal, JSON for a pipe, a file or a sink. */
export function resolveLogFormat(format: LogFormat | undefined, toTerminal: boolean): 'json' | 'pretty' {
  if (format === 'json' || format === 'pretty') return format;
  return toTerminal ? 'pretty' : 'json';
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): RootLogger {
  const format = resolveLogFormat(options.format, !options.sink && process.stderr.isTTY === true);
  const file = options.logFile === undefined ? undefined : new LogFile(options.logFile);
  // Synchronous: a line logged just before the process exits is not lost.
  const stderr = options.sink ? undefined : pino.destination({ dest: 2, sync: true });
  const primary: LogSink = options.sink ?? ((line) => stderr?.write(line + '\n'));
  const destination: DestinationStream = {
    write(chunk: string) {
      const line = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
      primary(format === 'pretty' ? prettyLine(line) : line);
      file?.write(line + '\n');
    },
  };
  const root = pino(
    {
      level: options.level ?? 'info',
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
    },
    destination,
  );
  const scrubber = scrubberSource(options);
  const logger = facade(root, scrubber);
  return { ...(Object.keys(bound).length > 0 ? logger.child(bound) : logger), close: () => file?.close() };
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

/** Every string value (and nested key) with the configured secrets masked: free text included. */
function scrubbed(fields: LogFields, scrub: SecretScrubber): LogFields {
  if (scrub.empty) return fields;
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = typeof value === 'string' ? scrub.text(value) : value !== null && typeof value === 'object' ? scrub.value(value) : value;
  }
  return out;
}

type Level = Exclude<LogLevel, 'silent'>;

/**
 * A child logger is made on its first line: every request gets one bound to its id, and most
 * write nothing below the access log's level.
 */
function facade(parent: PinoLogger, scrubber: () => SecretScrubber, bound?: LogFields): Logger {
  let made: PinoLogger | undefined = bound ? undefined : parent;
  const logger = () => (made ??= parent.child(scrubbed(bound!, scrubber())));
  const write = (level: Level, message: string, fields?: LogFields) => {
    if (!parent.isLevelEnabled(level)) return;
    const pinoLogger = logger();
    const scrub = scrubber();
    if (fields) pinoLogger[level](scrubbed(fields, scrub), scrub.text(message));
    else pinoLogger[level](scrub.text(message));
  };
  return {
    debug: (message, fields) => write('debug', message, fields),
    info: (message, fields) => write('info', message, fields),
    warn: (message, fields) => write('warn', message, fields),
    error: (message, fields) => write('error', message, fields),
    child: (fields) => facade(logger(), scrubber, fields),
  };
}
