// `llm-proxy ui`: the running proxy's dashboard URL, or why there is none.

import { describe, expect, it } from 'vitest';
import { run, sandbox, scripted, startProxy } from './support/cli.js';

describe('llm-proxy ui', () => {
  it("prints the URL of the running proxy's dashboard, which serves the page", async () => {
    // On by default on loopback.
    const box = sandbox({ port: 'auto', backends: { main: scripted('hi') } });
    const proxy = await startProxy(box);
    // `llm-proxy start` names it too.
    expect(proxy.stdout()).toContain(`see it:  ${proxy.url}/ui`);
    const result = await run(box, ['ui']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(`${proxy.url}/ui`);
    const page = await fetch(result.stdout.trim());
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const script = await fetch(`${proxy.url}/ui/assets/app.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toContain('text/javascript');
  });

  it('says how to turn the dashboard on when the proxy has none, and when none runs', async () => {
    const box = sandbox({ port: 'auto', backends: { main: scripted('hi') }, plugins: [['dashboard', { enabled: false }]] });
    const none = await run(box, ['ui']);
    expect(none.code).not.toBe(0);
    expect(none.stderr).toContain('no llm-proxy is running');
    const started = await startProxy(box);
    expect(started.stdout()).not.toContain('see it:');
    const without = await run(box, ['ui']);
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('has no dashboard');
    expect(without.stderr).toContain('"dashboard"');
  });
});
