// Request bodies captured from the real Claude Code CLI, kept outside this repository in
// ../shared/fixtures/claude-code (see its README.md for what each file is).
//
// Tests that read fixtures must use
//
//   describe.skipIf(!fixturesPresent && !fixturesRequired)('...', () => { ... });
//
// so that a developer without ../shared skips them, while CI (where .ci/run sets
// LLM_PROXY_REQUIRE_FIXTURES=1) runs them anyway and fails loudly on the missing directory
// instead of silently skipping.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of `<repo>/../shared/fixtures/claude-code` (with a trailing separator). */
export const fixturesDir: string = fileURLToPath(new URL('../../../shared/fixtures/claude-code/', import.meta.url));

export const fixturesPresent: boolean = existsSync(fixturesDir);

/** True in CI: a missing fixtures directory must fail the tests, not skip them. */
export const fixturesRequired: boolean = process.env.LLM_PROXY_REQUIRE_FIXTURES === '1';

export interface Fixture {
  /** The file's text, byte for byte (use it as a request body to test the real wire format). */
  raw: string;
  body: Record<string, unknown>;
}

/** Loads `<name>` or `<name>.json` from the fixtures directory, e.g. `loadFixture('pong-turn1')`. */
export function loadFixture(name: string): Fixture {
  const file = join(fixturesDir, name.endsWith('.json') ? name : `${name}.json`);
  if (!existsSync(file)) {
    throw new Error(
      `fixture "${name}" not found at ${file}` +
        (fixturesPresent ? '' : ` (the fixtures directory ${fixturesDir} is missing: check out ../shared next to this repository)`),
    );
  }
  const raw = readFileSync(file, 'utf8');
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`fixture "${name}" (${file}) is not a JSON object`);
  }
  return { raw, body: parsed as Record<string, unknown> };
}
