// Helpers for the semantic-cache tests: a proxy with the cache tiers and the semantic tier on a
// fake OpenAI upstream, its status section, and waiting for a stored answer.

import type Anthropic from '@anthropic-ai/sdk';
import type { UserConfig } from '../../src/config/types.js';
import { semanticCache, type SemanticCacheOptions } from '../../plugins/semantic-cache/index.js';
import { cachePlugins, health, until } from './cache.js';
import { openaiTextChunks, type FakeUpstream } from './fake-upstream.js';
import { openaiBackend, startProxy, type TestProxy } from './proxy.js';

export interface SemanticReport {
  status: string;
  redis: string;
  embedderState?: string;
  index: string;
  lookups: number;
  hits: number;
  misses: number;
  skipped: number;
  unavailable: number;
  stores: number;
  vectors?: number;
  embedErrors: number;
  lastEmbedError?: string;
  lastRedisError?: string;
}

export const answer = (text: string, usage = { prompt_tokens: 40, completion_tokens: 8 }) => ({ kind: 'openai-stream' as const, chunks: openaiTextChunks(text, { usage }) });

/** The fake embeddings server as an OpenAI-compatible embedder. */
export const openaiEmbedder = (embeddingsUrl: string) => ({ type: 'openai' as const, url: `${embeddingsUrl}/v1`, model: 'fake-embed' });

/** A proxy with backends `gpu` and `other` on `upstream`, and memory + semantic tiers. */
export function semanticProxy(upstream: FakeUpstream, options: SemanticCacheOptions, config: Partial<UserConfig> = {}): Promise<TestProxy> {
  return startProxy({
    backend: 'gpu',
    backends: { gpu: openaiBackend(upstream.url, { models: { '*haiku*': 'small-model' } }), other: openaiBackend(upstream.url) },
    plugins: cachePlugins([semanticCache(options)]),
    logLevel: 'info',
    ...config,
  });
}

export async function semanticReport(url: string): Promise<SemanticReport> {
  return (await health(url)).plugins['semantic-cache'] as unknown as SemanticReport;
}

/** Waits until the semantic tier stored `count` answers in all. */
export function storedSemantic(px: TestProxy, count: number): Promise<void> {
  return until(async () => (await semanticReport(px.url)).stores >= count, `${count} semantic stores`);
}

/** messages.create with the cache headers. */
export async function create(px: TestProxy, body: Anthropic.MessageCreateParamsNonStreaming) {
  const { data, response } = await px.client.messages.create(body).withResponse();
  return { message: data, cache: response.headers.get('x-llm-proxy-cache'), tier: response.headers.get('x-llm-proxy-cache-tier') };
}

/** messages.stream with the cache headers. */
export async function stream(px: TestProxy, body: Anthropic.MessageCreateParamsNonStreaming) {
  const events = px.client.messages.stream(body);
  const { response } = await events.withResponse();
  return { message: await events.finalMessage(), cache: response.headers.get('x-llm-proxy-cache'), tier: response.headers.get('x-llm-proxy-cache-tier') };
}
