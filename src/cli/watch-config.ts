import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface ConfigWatcher {
  close(): void;
}

/**
 * Calls `onChange` after the file changes, once per burst of writes. Watches the folder, not
 * the file: editors save by writing a new file and renaming it over the old one.
 */
export function watchConfigFile(file: string, onChange: () => void, debounceMs = 150): ConfigWatcher {
  const name = basename(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher: FSWatcher = watch(dirname(file), (_event, changed) => {
    if (changed !== null && changed !== name) return;
    clearTimeout(timer);
    timer = setTimeout(onChange, debounceMs);
  });
  watcher.on('error', () => undefined);
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}
