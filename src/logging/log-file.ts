import { closeSync, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * The `logFile`: JSON lines appended with synchronous writes (a line logged just before exit is
 * on disk), readable by the owner only — chmod 0600 also when the file already existed wider.
 */
export class LogFile {
  #fd: number | undefined;

  constructor(readonly path: string) {
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      this.#fd = openSync(path, 'a', 0o600);
      fchmodSync(this.#fd, 0o600);
    } catch (error) {
      if (this.#fd !== undefined) closeSync(this.#fd);
      const reason = error instanceof Error ? error.message : String(error);
      throw new ConfigError(`cannot open the log file: ${reason}`, { field: 'logFile' });
    }
  }

  write(line: string): void {
    if (this.#fd === undefined) return;
    const bytes = Buffer.from(line);
    for (let at = 0; at < bytes.length; ) at += writeSync(this.#fd, bytes, at);
  }

  /** Later lines are dropped; a second close does nothing. */
  close(): void {
    if (this.#fd === undefined) return;
    const fd = this.#fd;
    this.#fd = undefined;
    closeSync(fd);
  }
}
