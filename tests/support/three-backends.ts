import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { openaiBackend, startProxy, type TestProxy } from './proxy.js';

export interface ThreeBackends {
  /** The OpenAI-format upstream behind `gpu` and `other`; its fallback answers "ok" as a stream. */
  upstream: FakeUpstream;
  px: TestProxy;
  close(): Promise<void>;
}

/**
 * A proxy with three backends, shared by the endpoint, routing and count_tokens tests:
 * `gpu` (active; OpenAI, `qwen3-coder:30b`, `*haiku*` → `small-model`), `other` (OpenAI,
 * `other-model`) and `canned` (scripted, "canned answer").
 */
export async function startThreeBackends(): Promise<ThreeBackends> {
  const upstream = await startFakeUpstream();
  upstream.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('ok') });
  const px = await startProxy({
    backend: 'gpu',
    backends: {
      gpu: openaiBackend(upstream.url, { models: { '*haiku*': 'small-model' } }),
      other: openaiBackend(upstream.url, { model: 'other-model' }),
      canned: { type: 'scripted', responses: [{ text: 'canned answer' }] },
    },
  });
  return {
    upstream,
    px,
    close: async () => {
      await px.close();
      await upstream.close();
    },
  };
}
