import { describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream } from './support/fake-upstream.js';
import { openaiBackend, parseSSE, postMessages, startProxy } from './support/proxy.js';

const ask = { model: 'claude-sonnet-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] };

describe('proxy.reload', () => {
  it('sends new requests to the new config while an open stream finishes on the old one', async () => {
    const upstream = await startFakeUpstream();
    const px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) } });
    try {
      const chunks = openaiTextChunks('old backend answer', { pieces: 3 });
      upstream.enqueue({ kind: 'openai-stream', chunks: chunks.flatMap((c) => [c, { delayMs: 60 }]) });
      const open = postMessages(px.url, { ...ask, stream: true });
      await upstream.waitForRequests(1, { endpoint: 'chat' });

      await px.proxy.reload({ backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: 'new config' }] } }, logLevel: 'silent' });
      const fresh = await postMessages(px.url, ask);
      expect(JSON.parse(fresh.text).content[0].text).toBe('new config');

      const finished = parseSSE((await open).text);
      expect(finished.at(-1)?.event).toBe('message_stop');
      expect(px.proxy.config.backend).toBe('canned');
    } finally {
      await px.close();
      await upstream.close();
    }
  });

  it('keeps the running config when the new one is invalid, and a run-time switch survives an unrelated edit', async () => {
    const backends = { a: { type: 'scripted' as const, responses: [{ text: 'from a' }] }, b: { type: 'scripted' as const, responses: [{ text: 'from b' }] } };
    const px = await startProxy({ backend: 'a', backends });
    try {
      await expect(px.proxy.reload({ backend: 'missing', backends })).rejects.toThrow(/missing/);
      expect(JSON.parse((await postMessages(px.url, ask)).text).content[0].text).toBe('from a');
      px.proxy.switchBackend('b');
      await px.proxy.reload({ backend: 'a', backends, server: { pingIntervalMs: 5000 } });
      expect(JSON.parse((await postMessages(px.url, ask)).text).content[0].text).toBe('from b');
    } finally {
      await px.close();
    }
  });
});
