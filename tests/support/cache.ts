// Helpers for the cache tests: the cache plugins, request bodies, /health.

import type Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { UserConfig } from '../../src/config/types.js';
import type { Plugin } from '../../src/kernel/types.js';
import { cache, type CachePluginOptions } from '../../src/plugins/cache/index.js';
import type { HealthReport } from '../../src/plugins/endpoints/health/index.js';
import { memoryCache, type MemoryCacheOptions } from '../../src/plugins/memory-cache/index.js';
import { startFakeUpstream, type FakeUpstream } from './fake-upstream.js';
import { postMessages, startProxy, type TestProxy } from './proxy.js';

/** The coordinator and L1 (what the built-ins provide), then any other tier. */
export function cachePlugins(extra: Plugin[] = [], options: { cache?: CachePluginOptions; memory?: MemoryCacheOptions } = {}): Plugin[] {
  return [cache(options.cache), memoryCache(options.memory), ...extra];
}

/** A small Messages request; `extra` adds or replaces fields. */
export function ask(text: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}): Anthropic.MessageCreateParamsNonStreaming {
  return { model: 'claude-sonnet-4-5', max_tokens: 200, messages: [{ role: 'user', content: text }], ...extra };
}

export async function health(url: string): Promise<HealthReport> {
  return (await (await fetch(`${url}/health`)).json()) as HealthReport;
}

/** The `cache` status section's counters. */
export interface CacheReport {
  tiers: Record<string, { entries?: number; bytes?: number; redis?: string }>;
  hits: Record<string, number>;
  misses: number;
  bypasses: number;
  stores: number;
  tokensServed: { input: number; output: number };
  savedUsd: number;
}

export async function cacheReport(url: string): Promise<CacheReport> {
  return (await health(url)).plugins.cache as unknown as CacheReport;
}

/** POST /v1/messages; returns the cache headers, `age`, and the parsed JSON body (non-stream). */
export async function post(url: string, body: object, headers: Record<string, string> = {}) {
  const res = await postMessages(url, body, headers);
  return {
    status: res.status,
    cache: res.headers.get('x-llm-proxy-cache'),
    tier: res.headers.get('x-llm-proxy-cache-tier'),
    age: res.headers.get('age'),
    text: res.text,
    json: () => JSON.parse(res.text) as Anthropic.Message,
  };
}

/** POSTs a request per prompt, one after the other: each one's status, cache header and duration. */
export async function timedPosts(url: string, prompts: string[]): Promise<Array<{ status: number; cache: string | null; ms: number }>> {
  const results = [];
  for (const prompt of prompts) {
    const started = Date.now();
    const res = await post(url, ask(prompt));
    results.push({ status: res.status, cache: res.cache, ms: Date.now() - started });
  }
  return results;
}

/** Every response was a 200 miss; the slowest took how long (ms). */
export function slowestMiss(results: Array<{ status: number; cache: string | null; ms: number }>): number {
  for (const result of results) if (result.status !== 200 || result.cache !== 'miss') throw new Error(`expected a 200 miss, got ${JSON.stringify(result)}`);
  return Math.max(...results.map((result) => result.ms));
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every 50 ms until it holds; fails after `timeoutMs`. */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A suite's fake OpenAI upstream and proxy (started once, the upstream reset before each test). */
export function cachedProxySuite(config: (upstreamUrl: string) => UserConfig): { readonly upstream: FakeUpstream; readonly px: TestProxy } {
  let upstream: FakeUpstream | undefined;
  let px: TestProxy | undefined;
  beforeAll(async () => {
    upstream = await startFakeUpstream({ format: 'openai' });
    px = await startProxy(config(upstream.url));
  });
  afterAll(async () => {
    await px?.close();
    await upstream?.close();
  });
  beforeEach(() => {
    upstream?.reset();
    upstream?.setFallback(undefined);
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the suite has not started');
    return value;
  };
  return {
    get upstream() {
      return started(upstream);
    },
    get px() {
      return started(px);
    },
  };
}
