import { describe, expect, it } from 'vitest';
import { openaiTextChunks, startFakeUpstream } from './support/fake-upstream.js';
import { openaiBackend, parseSSE, postMessages, startProxy } from './support/proxy.js';
import type { Plugin } from '../src/kernel/types.js';

describe('graceful shutdown', () => {
  it('lets an open stream finish, refuses new connections, and closes plugins', async () => {
    const upstream = await startFakeUpstream();
    let closed = 0;
    const marker: Plugin = { name: 'marker', apply() {}, close: () => void closed++ };
    const px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, plugins: [marker] });
    try {
      const chunks = openaiTextChunks('slow and steady wins', { pieces: 4 });
      upstream.enqueue({ kind: 'openai-stream', chunks: chunks.flatMap((c) => [c, { delayMs: 80 }]) });
      const pending = postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] });
      await upstream.waitForRequests(1, { endpoint: 'chat' });
      const closing = px.close();
      const res = await pending;
      await closing;
      expect(parseSSE(res.text).at(-1)?.event).toBe('message_stop');
      expect(closed).toBe(1);
      await expect(fetch(px.url)).rejects.toThrow();
    } finally {
      await upstream.close();
    }
  });

  it('cuts streams that outlive the grace period with a closed socket, not a clean end', async () => {
    const upstream = await startFakeUpstream();
    const px = await startProxy({ backend: 'gpu', backends: { gpu: openaiBackend(upstream.url) }, server: { shutdownGraceMs: 100, pingIntervalMs: 20 } });
    try {
      upstream.enqueue({ kind: 'hang' });
      const pending = postMessages(px.url, { model: 'claude-sonnet-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] }).catch(
        (error: unknown) => ({ status: 0, text: String(error) }),
      );
      await upstream.waitForRequests(1, { endpoint: 'chat' });
      await px.close();
      const res = await pending;
      expect(res.text).not.toContain('message_stop');
    } finally {
      await upstream.close();
    }
  });
});
