/** The npm package (the command it installs stays `llm-proxy`). */
export const PACKAGE_NAME = '@jleechan/llm-proxy-server';

/** What configs imported before the rename; `llm-proxy` on npm is an unrelated package. */
export const OLD_PACKAGE_NAME = 'llm-proxy';
