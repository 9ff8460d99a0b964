// POST /v1/messages/count_tokens is answered by the kernel (after the `request` hook) with an
// estimate of about four characters a token.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postMessages } from './support/proxy.js';
import { fixturesPresent, fixturesRequired, loadFixture } from './support/fixtures.js';
import { startThreeBackends, type ThreeBackends } from './support/three-backends.js';

describe('count_tokens', () => {
  let setup: ThreeBackends;
  beforeAll(async () => {
    setup = await startThreeBackends();
  });
  afterAll(async () => {
    await setup.close();
  });

  it('count_tokens answers with an estimate, with ?beta=true', async () => {
    const { px } = setup;
    const res = await fetch(`${px.url}/v1/messages/count_tokens?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'a'.repeat(400) }] }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { input_tokens: number };
    expect(body.input_tokens).toBeGreaterThanOrEqual(100);
    expect(body.input_tokens).toBeLessThan(200);
  });

  describe.skipIf(!fixturesPresent && !fixturesRequired)('real Claude Code bodies (../shared fixtures)', () => {
    it('count_tokens and messages accept pong-turn1.json', async () => {
      const { px } = setup;
      const { raw } = loadFixture('pong-turn1.json');
      const res = await fetch(`${px.url}/v1/messages/count_tokens?beta=true`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { input_tokens: number }).input_tokens).toBeGreaterThan(10_000);
      const answer = await postMessages(px.url, raw);
      expect(answer.status).toBe(200);
    });
  });
});
