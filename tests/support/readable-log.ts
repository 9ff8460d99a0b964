import { stripVTControlCharacters } from 'node:util';
import { prettyLine } from '../../src/logging/pretty-line.js';

/**
 * A CLI's stderr as a person reads it: each JSON log line (the format when stderr is a pipe) as
 * `time level message key=value…`, without colour; other lines as they are. For tests that look
 * for a message's text, quotes included.
 */
export function readableLog(stderr: string): string {
  return stderr
    .split('\n')
    .map((line) => stripVTControlCharacters(prettyLine(line)))
    .join('\n');
}
