import { describe, expect, it } from 'vitest';
import { formatSection } from '../src/cli/commands/status.js';

describe('llm-proxy status: plugin sections', () => {
  it('prints a section on one readable line, nested counters grouped, dollars marked', () => {
    const line = formatSection({
      status: 'ok',
      enabled: true,
      inFlight: 0,
      tiers: { memory: { entries: 3, bytes: 2048 }, redis: { redis: 'up' } },
      hits: { memory: 2, redis: 1 },
      misses: 4,
      tokensServed: { input: 4000, output: 1000 },
      savedUsd: 0.0225,
      empty: {},
    });
    expect(line).toBe(
      'enabled=true  inFlight=0  tiers: memory(entries=3 bytes=2048) redis(redis=up)  hits: memory=2 redis=1  misses=4  tokensServed: input=4000 output=1000  savedUsd=$0.0225',
    );
  });

  it('shows why a section is down', () => {
    expect(formatSection({ status: 'down', redis: 'down', mode: 'single', lastError: 'connect ECONNREFUSED 127.0.0.1:6379' })).toBe(
      'redis=down  mode=single  lastError=connect ECONNREFUSED 127.0.0.1:6379',
    );
  });
});
