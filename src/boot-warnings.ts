import type { LogFields, Logger } from './logger.js';

/**
 * While a kernel boots, its plugins warn about the config: a backend without a key, an Ollama
 * that is not up yet. A reload boots a new kernel from the edited config; what the previous boot
 * already said (same plugin or backend, same message) is not said again. Only the boot is
 * filtered: warnings once the kernel serves pass as they are.
 */
export class BootWarnings {
  #previous = new Set<string>();

  /** A logger for one boot, and `done()` to call once that boot succeeded. */
  boot(base: Logger): { logger: Logger; done: () => void } {
    const previous = this.#previous;
    const current = new Set<string>();
    let booting = true;
    const wrap = (logger: Logger, bound: LogFields): Logger => ({
      debug: (message, fields) => logger.debug(message, fields),
      info: (message, fields) => logger.info(message, fields),
      error: (message, fields) => logger.error(message, fields),
      warn: (message, fields) => {
        if (booting) {
          const key = JSON.stringify([bound, message]);
          current.add(key);
          if (previous.has(key)) return;
        }
        logger.warn(message, fields);
      },
      child: (fields) => wrap(logger.child(fields), { ...bound, ...fields }),
    });
    return {
      logger: wrap(base, {}),
      done: () => {
        booting = false;
        this.#previous = current;
      },
    };
  }
}
