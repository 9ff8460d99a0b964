import pc from 'picocolors';

const COLOUR: Readonly<Record<string, (text: string) => string>> = {
  debug: pc.gray,
  info: pc.cyan,
  warn: pc.yellow,
  error: pc.red,
};

const show = (value: unknown): string => (typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value));

/** One JSON line from pino as a terminal line: `12:34:56.789 info  messages backend=gpu status=200 …`. */
export function prettyLine(json: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, msg, ...fields } = record;
  const label = typeof level === 'string' ? level : 'info';
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const extras = Object.entries(fields)
    .map(([key, value]) => `${pc.dim(key + '=')}${show(value)}`)
    .join(' ');
  const colour = COLOUR[label] ?? ((text: string) => text);
  return `${pc.dim(clock)} ${colour(label.padEnd(5))} ${show(msg ?? '')}${extras ? ' ' + extras : ''}`;
}
