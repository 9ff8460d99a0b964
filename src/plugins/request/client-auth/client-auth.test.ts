import { describe, expect, it } from 'vitest';
import { postMessages, startProxy } from '../../../../tests/support/proxy.js';

describe('client keys', () => {
  it('requires a configured key everywhere but HEAD / and /health', async () => {
    const px = await startProxy(
      { backend: 'canned', backends: { canned: { type: 'scripted', responses: [{ text: 'hi' }] } }, auth: { keys: ['client-key-1', 'client-key-2'] } },
      { apiKey: 'client-key-2' },
    );
    try {
      expect((await fetch(px.url, { method: 'HEAD' })).status).toBe(200);
      expect((await fetch(`${px.url}/health`)).status).toBe(200);
      const body = { model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };
      const wrong = await postMessages(px.url, body, { 'x-api-key': 'nope' });
      expect(wrong.status).toBe(401);
      expect(JSON.parse(wrong.text).error.type).toBe('authentication_error');
      expect((await fetch(`${px.url}/v1/models`)).status).toBe(401);
      const bearer = await postMessages(px.url, body, { 'x-api-key': '', authorization: 'Bearer client-key-1' });
      expect(bearer.status).toBe(200);
      const viaSdk = await px.client.messages.create({ model: 'm', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] });
      expect(viaSdk.content[0]).toEqual({ type: 'text', text: 'hi' });
    } finally {
      await px.close();
    }
  });

  it('refuses to listen beyond loopback without keys', async () => {
    const { createProxy } = await import('../../../proxy.js');
    const proxy = await createProxy({ backend: 'c', backends: { c: { type: 'scripted', responses: [{ text: 'x' }] } }, logLevel: 'silent' });
    await expect(proxy.listen(0, '0.0.0.0')).rejects.toThrow(/without client keys/);
    await proxy.close();
  });
});
