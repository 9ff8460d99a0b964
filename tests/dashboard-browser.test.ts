// The dashboard in a real browser: Debian's chromium driven by playwright-core, against a proxy
// with a healthy backend, one a Cerebras-style 429 refused, and the in-process cache.

import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dashboard } from '../plugins/dashboard/index.js';
import { cachePlugins } from './support/cache.js';
import { openaiTextChunks, startFakeUpstream, type FakeUpstream } from './support/fake-upstream.js';
import { openaiBackend, postMessages, startProxy, type TestProxy } from './support/proxy.js';

const CHROMIUM = '/usr/bin/chromium';
const CEREBRAS_KEY = 'csk-page-SECRET-0123456789';
/** Where the screenshot goes (a test artifact); `LLM_PROXY_SCREENSHOT=docs` writes the README's. */
const ARTIFACTS = join(tmpdir(), 'llm-proxy-artifacts');
const DOCS_SCREENSHOT = fileURLToPath(new URL('../docs/dashboard.png', import.meta.url));

/** Outside CI (.ci/run sets LLM_PROXY_REQUIRE_FIXTURES=1) a machine without chromium skips, saying so. */
const chromiumMissing = !existsSync(CHROMIUM) && process.env.LLM_PROXY_REQUIRE_FIXTURES !== '1';
if (chromiumMissing) console.warn(`skipping the dashboard's browser test: no ${CHROMIUM} (\`apt-get install chromium\` on Debian/Ubuntu)`);

const ask = (text: string) => ({ model: 'claude-sonnet-4-5', max_tokens: 50, messages: [{ role: 'user' as const, content: text }] });

describe.skipIf(chromiumMissing)('the dashboard page in chromium', () => {
  let gpu: FakeUpstream;
  let cloud: FakeUpstream;
  let px: TestProxy;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  const requested: string[] = [];

  beforeAll(async () => {
    [gpu, cloud] = await Promise.all([startFakeUpstream({ format: 'openai' }), startFakeUpstream({ format: 'cerebras' })]);
    px = await startProxy({
      backend: 'gpu',
      backends: {
        gpu: openaiBackend(gpu.url),
        cloud: { type: 'cerebras', apiKey: CEREBRAS_KEY, apiUrl: `${cloud.url}/v1`, model: 'gpt-oss-120b' },
      },
      plugins: cachePlugins([dashboard({ refreshMs: 250 })]),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    page.on('request', (request) => requested.push(request.url()));
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await px?.close();
    await Promise.all([gpu?.close(), cloud?.close()]);
  });

  const text = (selector: string) => page.locator(selector).first().textContent({ timeout: 10_000 });

  it('shows the backends, the quota and reset from the 429, the hit rate and savings, and the request rows', { timeout: 60_000 }, async () => {
    gpu.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('from the gpu', { usage: { prompt_tokens: 1200, completion_tokens: 80 } }) });
    expect((await postMessages(px.url, ask('what is in src/kernel?'))).status).toBe(200);
    expect((await postMessages(px.url, ask('what is in src/kernel?'))).status).toBe(200);
    cloud.enqueue({ kind: 'error', status: 429, message: 'Tokens per minute limit exceeded - too many tokens processed.', code: 'token_quota_exceeded', rateLimit: { remainingTokensMinute: 0, resetTokensMinute: 42 } });
    expect((await postMessages(px.url, { ...ask('to the cloud'), model: 'cloud/gpt-oss-120b' })).status).toBe(429);

    await page.goto(`${px.url}/ui`);
    await page.locator('#requests tbody tr').nth(2).waitFor({ timeout: 15_000 });
    const data = (await (await fetch(`${px.url}/ui/api/state`)).json()) as { backends: Array<{ name: string; health?: { status: string; circuit?: string } }> };
    const expected = (name: string) => {
      const health = data.backends.find((b) => b.name === name)?.health;
      return health?.circuit === 'open' ? 'breaker open' : health?.status === 'ok' ? 'up' : (health?.status ?? 'unknown');
    };
    expect(await text('[data-backend="gpu"] [data-field="state"]')).toBe('up');
    expect(await text('[data-backend="cloud"] [data-field="state"]')).toBe(expected('cloud'));
    expect(await page.locator('[data-backend="gpu"] [data-field="active"]').count()).toBe(1);
    expect(await page.locator('[data-backend="cloud"] [data-field="active"]').count()).toBe(0);
    expect(await text('#active')).toContain('gpu');

    const tokens = '[data-quota="cloud"] [data-limit="tokens/minute"]';
    expect(await text(`${tokens} [data-field="remaining"]`)).toBe('0');
    expect(await text(`${tokens} [data-field="limit"]`)).toBe('60000');
    expect(await text(`${tokens} [data-field="reset"]`)).toMatch(/resets in (4[0-2]|3\d) s/);

    // One hit, two misses (the cloud's request missed too, before its upstream refused it).
    expect(await text('#cache [data-field="hit-rate"]')).toBe('33%');
    expect(await text('#cache [data-field="saved-usd"]')).toMatch(/^\$0\.0\d*[1-9]/);

    const rows = page.locator('#requests tbody tr');
    expect(await rows.count()).toBe(3);
    expect(await rows.nth(0).getAttribute('data-status')).toBe('429');
    expect(await rows.nth(0).locator('[data-field="error"]').textContent()).toContain('Tokens per minute limit exceeded');
    expect(await rows.nth(1).getAttribute('data-cache')).toBe('hit');
    expect(await rows.nth(2).getAttribute('data-cache')).toBe('miss');
    expect(await page.locator('#chart-requests').count()).toBe(1);
    expect(await page.locator('#chart-latency').count()).toBe(1);
    expect(await page.locator('#readonly').isHidden()).toBe(true);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    if (process.env.LLM_PROXY_SCREENSHOT === 'docs') await page.screenshot({ path: DOCS_SCREENSHOT, fullPage: true });
  });

  it('switches the backend the next request goes to', { timeout: 30_000 }, async () => {
    cloud.setFallback({ kind: 'openai-stream', chunks: openaiTextChunks('from the cloud') });
    await page.locator('[data-backend="cloud"] button[data-action="switch"]').click();
    await page.locator('[data-backend="cloud"] [data-field="active"]').waitFor({ timeout: 10_000 });
    const before = cloud.chatRequests.length;
    expect((await postMessages(px.url, ask('after the switch'))).status).toBe(200);
    expect(cloud.chatRequests.length).toBe(before + 1);
  });

  it("refuses an action another site's page sends through the browser", { timeout: 30_000 }, async () => {
    // Another origin (another port on loopback) whose script tries both ways a page could.
    const evil: Server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<script>
        const target = ${JSON.stringify(`${px.url}/ui/api/switch`)};
        window.results = Promise.all([
          fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"backend":"gpu"}' }).then((r) => 'json ' + r.status, (e) => 'json blocked'),
          fetch(target, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{"backend":"gpu"}' }).then((r) => 'plain ' + r.type, (e) => 'plain blocked'),
        ]);
      </script>`);
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    try {
      const other = await browser.newPage();
      await other.goto(`http://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      const results = await other.evaluate(() => (globalThis as unknown as { results: Promise<string[]> }).results);
      // The JSON POST needs a CORS preflight the proxy never grants (or, were it sent, its Origin is refused).
      expect(['json blocked', 'json 403']).toContain(results[0]);
      // The form-like one reaches the proxy, which wants JSON; either way nothing switched.
      expect(results[1]).toBe('plain opaque');
      await other.close();
      expect(((await (await fetch(`${px.url}/ui/api/state`)).json()) as { active: string }).active).toBe('cloud');
    } finally {
      await new Promise<void>((resolve) => evil.close(() => resolve()));
    }
  });

  it('fits a narrow window, in the dark scheme too', { timeout: 30_000 }, async () => {
    const narrow = await browser.newPage({ viewport: { width: 380, height: 900 }, colorScheme: 'dark' });
    const errors: string[] = [];
    narrow.on('pageerror', (error) => errors.push(error.message));
    narrow.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    try {
      await narrow.goto(`${px.url}/ui`);
      await narrow.locator('#requests tbody tr').first().waitFor({ timeout: 15_000 });
      // The page itself does not scroll sideways (the table may, inside its own box).
      // (Expressions as text: they run in the page, where the DOM is.)
      const widths = await narrow.evaluate<{ page: number; window: number }>('({ page: document.documentElement.scrollWidth, window: window.innerWidth })');
      expect(widths.page).toBeLessThanOrEqual(widths.window);
      // Dark: the background is dark, not the light scheme's.
      const background = await narrow.evaluate<string>('getComputedStyle(document.body).backgroundColor');
      const [r, g, b] = (background.match(/\d+/g) ?? ['255', '255', '255']).map(Number);
      expect((r! + g! + b!) / 3).toBeLessThan(80);
      await narrow.screenshot({ path: join(ARTIFACTS, 'dashboard-narrow-dark.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await narrow.close();
    }
  });

  it('had no console errors and loaded nothing but the proxy', () => {
    expect(consoleErrors).toEqual([]);
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.filter((url) => !url.startsWith(`${px.url}/`))).toEqual([]);
  });
});
