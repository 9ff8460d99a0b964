// The semantic cache measured on labelled prompt pairs (tests/fixtures/semantic-pairs.json): each
// first prompt is answered upstream, each second one is a paraphrase (should hit) or a near miss
// (must not). Prints the miss and false-hit rates, through the proxy at the default threshold and,
// from the embeddings directly, over a sweep of thresholds; docs/CACHE.md quotes them.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { anchorsOf } from './question.js';
import { ask, post } from '../../tests/support/cache.js';
import { startFakeEmbeddings, type FakeEmbeddings } from '../../tests/support/fake-embeddings.js';
import { startFakeUpstream, type FakeUpstream } from '../../tests/support/fake-upstream.js';
import type { TestProxy } from '../../tests/support/proxy.js';
import { redisPresent, redisRequired, startRedis, type RedisServer } from '../../tests/support/redis.js';
import { answer, openaiEmbedder, semanticProxy, semanticReport, storedSemantic } from '../../tests/support/semantic.js';
import { cosine, embedText } from '../../tests/support/text-embedding.js';

type Label = 'paraphrase' | 'negation' | 'entity' | 'number' | 'language';
interface Pair {
  label: Label;
  first: string;
  second: string;
}

const { pairs } = JSON.parse(readFileSync(new URL('../../tests/fixtures/semantic-pairs.json', import.meta.url), 'utf8')) as { pairs: Pair[] };
const DEFAULT_THRESHOLD = 0.95;
const SWEEP = [0.8, 0.85, 0.9, 0.95, 0.98];

const percent = (part: number, whole: number) => `${whole === 0 ? 0 : Math.round((100 * part) / whole)}% (${part}/${whole})`;

describe.skipIf(!redisPresent && !redisRequired)('semantic cache on labelled prompt pairs', () => {
  let redis: RedisServer;
  let embeddings: FakeEmbeddings;
  let upstream: FakeUpstream;
  let px: TestProxy;

  beforeAll(async () => {
    [redis, embeddings, upstream] = await Promise.all([startRedis(), startFakeEmbeddings(), startFakeUpstream()]);
    // What is measured is the decision, not the speed of Redis or the embedder: a lookup slowed by
    // a busy machine (the whole suite on two cores) must not read as a miss; the timeouts have
    // their own tests.
    px = await semanticProxy(upstream, { url: redis.url, operationTimeoutMs: 5_000, embedTimeoutMs: 30_000, embedder: openaiEmbedder(embeddings.url) });
  });
  afterAll(async () => {
    await px?.close();
    await Promise.all([upstream?.close(), embeddings?.close(), redis?.stop()]);
  });

  it('has at least 30 pairs, with every kind of near miss', () => {
    expect(pairs.length).toBeGreaterThanOrEqual(30);
    for (const label of ['paraphrase', 'negation', 'entity', 'number', 'language'] as const) {
      expect(pairs.filter((pair) => pair.label === label).length, label).toBeGreaterThanOrEqual(5);
    }
  });

  it('never serves a near miss at the default threshold, and reports the rates', async () => {
    upstream.setFallback(answer('the first answer'));
    const results: Array<Pair & { hit: boolean; similarity: number; sameAnchors: boolean }> = [];
    for (const [i, pair] of pairs.entries()) {
      // A scope per pair: each second prompt can only find its own first one.
      const scoped = { system: `semantic pair ${i}` };
      expect((await post(px.url, ask(pair.first, scoped))).cache).toBe('miss');
      await storedSemantic(px, i + 1);
      const second = await post(px.url, ask(pair.second, scoped));
      expect(second.status).toBe(200);
      const similarity = cosine(embedText(pair.first), embedText(pair.second));
      results.push({ ...pair, hit: second.cache === 'semantic-hit', similarity, sameAnchors: anchorsOf(pair.first) === anchorsOf(pair.second) });
    }

    // The proxy decides as the embeddings and anchors say (float32 rounding aside).
    const { unavailable, embedErrors, lastEmbedError, lastRedisError } = await semanticReport(px.url);
    const health = JSON.stringify({ unavailable, embedErrors, lastEmbedError, lastRedisError });
    for (const result of results) {
      if (Math.abs(result.similarity - DEFAULT_THRESHOLD) < 1e-4) continue;
      expect(result.hit, `${result.label}: ${result.first} / ${result.second} (tier: ${health})`).toBe(result.sameAnchors && result.similarity >= DEFAULT_THRESHOLD);
    }

    const paraphrases = results.filter((r) => r.label === 'paraphrase');
    const nearMisses = results.filter((r) => r.label !== 'paraphrase');
    const falseHits = nearMisses.filter((r) => r.hit);
    const missed = paraphrases.filter((r) => !r.hit);
    const lines = [
      `semantic cache, ${pairs.length} pairs (${paraphrases.length} paraphrases, ${nearMisses.length} near misses), through the proxy at threshold ${DEFAULT_THRESHOLD}:`,
      `  paraphrases served from the cache: ${percent(paraphrases.length - missed.length, paraphrases.length)}; miss rate ${percent(missed.length, paraphrases.length)}`,
      `  near misses served (false hits): ${percent(falseHits.length, nearMisses.length)}`,
      ...(['negation', 'entity', 'number', 'language'] as const).map((label) => {
        const group = nearMisses.filter((r) => r.label === label);
        return `    ${label}: ${percent(group.filter((r) => r.hit).length, group.length)} false hits`;
      }),
      'threshold sweep (from the embeddings): paraphrase hits | near-miss false hits, embedding alone | with the anchors check',
      ...SWEEP.map((t) => {
        const hits = (group: typeof results, anchored: boolean) => group.filter((r) => r.similarity >= t && (!anchored || r.sameAnchors)).length;
        return `  ${t.toFixed(2)}: ${percent(hits(paraphrases, false), paraphrases.length)} | ${percent(hits(nearMisses, false), nearMisses.length)}  ||  ${percent(hits(paraphrases, true), paraphrases.length)} | ${percent(hits(nearMisses, true), nearMisses.length)}`;
      }),
    ];
    console.log(lines.join('\n'));
    expect(falseHits.map((r) => `${r.label}: ${r.second}`)).toEqual([]);
    expect(missed.length).toBeLessThan(paraphrases.length);
  });
});
