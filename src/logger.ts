import pc from 'picocolors';

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
  /** Values that must never appear in output (API keys); replaced by `[redacted]`. */
  secrets?: () => Iterable<string>;
}

export function createLogger(options: LoggerOptions = {}, bound: LogFields = {}): Logger {
  const level = options.level ?? 'info';
  const format = options.format ?? 'pretty';
  const sink = options.sink ?? ((line: string) => process.stderr.write(line + '\n'));

  const redact = (text: string): string => {
    if (!options.secrets) return text;
    let out = text;
    for (const secret of options.secrets()) {
      if (secret.length >= 4) out = out.split(secret).join('[redacted]');
    }
    return out;
  };

  const write = (lvl: Exclude<LogLevel, 'silent'>, message: string, fields?: LogFields) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const all = { ...bound, ...fields };
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
    sink(redact(line));
  };

  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (fields) => createLogger(options, { ...bound, ...fields }),
  };
}

