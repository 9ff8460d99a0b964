// System tools some suites need (sshd, shellcheck). Like the fixtures: a missing tool skips the
// suite with a message in a user's clone, and fails it in CI (LLM_PROXY_REQUIRE_FIXTURES=1).
//
//   const tools = requireTools(['ssh', 'sshd'], 'apt-get install openssh-server openssh-client');
//   describe.skipIf(tools.skip)('...', () => { beforeAll(() => tools.assertPresent()); ... });

import { delimiter } from 'node:path';
import { findExecutable } from '../../src/cli/find-executable.js';
import { fixturesRequired } from './fixtures.js';

// sshd lives in /usr/sbin, which is not on every user's PATH.
const SEARCH_PATH = [process.env.PATH ?? '', '/usr/sbin', '/usr/local/sbin', '/sbin'].filter(Boolean).join(delimiter);

export interface RequiredTools {
  /** True when a tool is missing outside CI: the suite skips. */
  readonly skip: boolean;
  /** Throws, naming the missing tools and how to install them. */
  assertPresent(): void;
  /** Absolute path of a tool (throws like assertPresent when it is missing). */
  path(name: string): string;
}

export function requireTools(names: readonly string[], install: string): RequiredTools {
  const found = new Map(names.map((name) => [name, findExecutable(name, { PATH: SEARCH_PATH })]));
  const missing = names.filter((name) => found.get(name) === undefined);
  const message = `missing ${missing.join(', ')}: install with \`${install}\``;
  if (missing.length > 0 && !fixturesRequired) console.warn(`[tests] skipping: ${message} (CI sets LLM_PROXY_REQUIRE_FIXTURES=1 and fails instead)`);
  const assertPresent = (): void => {
    if (missing.length > 0) throw new Error(message);
  };
  return {
    skip: missing.length > 0 && !fixturesRequired,
    assertPresent,
    path(name) {
      const path = found.get(name);
      if (path === undefined) assertPresent();
      return path ?? name;
    },
  };
}
