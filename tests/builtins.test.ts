// The built-ins table: each entry's key is the name of the plugin it makes (a config names it,
// or replaces it, by that name), and the plugins every proxy runs are exactly its `always` ones.

import { describe, expect, it } from 'vitest';
import { resolveUserConfig } from '../src/index.js';
import { assemblePlugins, BUILTINS } from '../src/plugins/builtin.js';

describe('BUILTINS', () => {
  it('keys each plugin by its own name, for the default instance and the named one', async () => {
    const config = await resolveUserConfig({ backends: { s: { type: 'scripted', responses: [{ text: 'x' }] } } });
    for (const [name, builtin] of Object.entries(BUILTINS)) {
      if (builtin.always) expect(builtin.always(config).name).toBe(name);
      // redis-cache and semantic-cache need a Redis to be named; their own tests name them.
      if (builtin.named && builtin.always) expect((await builtin.named({})).name).toBe(name);
    }
  });

  it('runs the always-on ones in table order, and a config plugin of the same name replaces one', async () => {
    const config = await resolveUserConfig({ backends: { s: { type: 'scripted', responses: [{ text: 'x' }] } }, plugins: [['failure-advice', {}]] });
    const names = assemblePlugins(config).map((p) => p.name);
    const always = Object.entries(BUILTINS).flatMap(([name, b]) => (b.always ? [name] : []));
    expect(names).toEqual([...always.filter((n) => n !== 'failure-advice'), 'failure-advice']);
  });
});
