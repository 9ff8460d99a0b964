// Proves that the real Claude Code CLI can be driven headless against a server of ours, and pins
// down what it sends: one `HEAD /` (not awaited), then `POST /v1/messages?beta=true` with
// `stream: true`, 24 tools and the key in `x-api-key`.

import { afterEach, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { claudeMissing, runClaude } from './support/claude-cli.js';
import { anthropicTextEvents, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';

let fake: FakeUpstream | undefined;
let home: string | undefined;

afterEach(async () => {
  await fake?.close();
  fake = undefined;
  if (home) rmSync(home, { recursive: true, force: true });
  home = undefined;
});

describe.skipIf(claudeMissing)('Claude Code CLI against a fake Anthropic server', () => {
  it('answers "pong" from a streamed reply', { timeout: 150_000 }, async () => {
    fake = await startFakeUpstream({ format: 'anthropic' });
    // More than one in case the CLI makes extra calls; it makes one today.
    for (let i = 0; i < 4; i++) fake.enqueue({ kind: 'anthropic-stream', events: anthropicTextEvents('pong') });

    const result = await runClaude({ baseUrl: fake.url, prompt: 'say pong' });
    home = result.home;

    expect(result.code, `stderr: ${result.stderr}\nstdout: ${result.stdout}`).toBe(0);
    expect(result.json).toMatchObject({ type: 'result', subtype: 'success', is_error: false });
    expect((result.json as { result: string }).result).toContain('pong');

    const chats = fake.chatRequests;
    expect(chats.length).toBeGreaterThanOrEqual(1);
    const first = chats[0]!;
    expect(first.method).toBe('POST');
    expect(first.path).toBe('/v1/messages?beta=true');
    expect(first.headers['x-api-key']).toBe('test-key');
    expect(first.headers['anthropic-version']).toBe('2023-06-01');
    const body = first.body as { model: string; stream?: boolean; tools?: unknown[]; messages: unknown[] };
    expect(body.stream).toBe(true);
    // 24 in 2.1.197; 2.1.332 defers the rarely used ones behind tool search and sends 12.
    expect(body.tools?.length).toBeGreaterThanOrEqual(8);
    expect(body.tools?.length).toBeLessThanOrEqual(40);
    expect(JSON.stringify(body.messages)).toContain('say pong');

    const summary = fake.requests.map((r) => {
      const b = r.body as { model?: string; stream?: boolean; tools?: unknown[] } | undefined;
      return `${r.method} ${r.path}${b?.model ? ` model=${b.model} stream=${String(b.stream)} tools=${b.tools?.length ?? 0}` : ''}`;
    });
    console.info(`claude -p took ${result.durationMs} ms; requests:\n  ${summary.join('\n  ')}`);
  });
});
