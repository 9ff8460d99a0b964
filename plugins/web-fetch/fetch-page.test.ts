import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AddressGuard } from './address-guard.js';
import { domainRefusal } from './domains.js';
import { fetchPage, type FetchLimits, type FetchOutcome, type HostResolver } from './fetch-page.js';
import { startPageServer, type PageServer } from '../../tests/support/page-server.js';

// Nothing here leaves the machine: the only server is on 127.0.0.1, refused addresses are never
// connected to, and host names resolve through the test's own resolver (`.test` is reserved).
const LIMITS: FetchLimits = { timeoutMs: 10_000, maxBytes: 1024 * 1024, maxRedirects: 5, userAgent: 'web-fetch-test' };
const allowLoopback = new AddressGuard(['127.0.0.1/32']);
const strict = new AddressGuard();
const hosts: Record<string, string[]> = {
  'page.test': ['127.0.0.1'],
  'internal.test': ['10.1.2.3'],
  'metadata.test': ['169.254.169.254'],
  'mixed.test': ['127.0.0.1', '192.168.1.20'],
  'six.test': ['::1'],
  'mapped.test': ['::ffff:127.0.0.1'],
};
const resolver: HostResolver = async (hostname) => {
  const found = hosts[hostname];
  if (!found) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
const never = new AbortController().signal;
const failure = (outcome: FetchOutcome) => (outcome.ok ? undefined : { code: outcome.code, reason: outcome.reason });

describe('fetchPage against a local server', () => {
  let server: PageServer;
  beforeAll(async () => {
    server = await startPageServer();
  });
  afterAll(() => server?.close());

  const get = (path: string, opts: { guard?: AddressGuard; limits?: Partial<FetchLimits>; resolve?: HostResolver; rules?: Parameters<typeof fetchPage>[1] } = {}) =>
    fetchPage(path.startsWith('http') ? path : `${server.url}${path}`, opts.rules ?? {}, opts.guard ?? allowLoopback, opts.resolve ?? resolver, { ...LIMITS, ...opts.limits }, never);

  it('an HTML page becomes its title and text', async () => {
    const outcome = await get('/page');
    expect(outcome).toMatchObject({ ok: true, url: `${server.url}/page`, contentType: 'text/html', title: 'The Test & Page', truncated: false });
    expect(outcome.ok && outcome.text).toContain('# Hello from the local page');
  });

  it('plain text as it is; the charset the server names', async () => {
    expect(await get('/plain')).toMatchObject({ ok: true, text: 'just text', title: null });
    expect(await get('/latin1')).toMatchObject({ ok: true, text: 'café' });
  });

  it('a host name is resolved by the proxy and the connection goes to the address it checked', async () => {
    let lookups = 0;
    // Rebinding: the first answer is the allowed address, every later one a private address.
    const rebinding: HostResolver = async () => (lookups++ === 0 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '10.0.0.1', family: 4 }]);
    const outcome = await get(`http://page.test:${server.port}/page`, { resolve: rebinding });
    expect(outcome).toMatchObject({ ok: true, url: `http://page.test:${server.port}/page` });
    expect(lookups).toBe(1);
  });

  it('a redirect is followed, and checked again', async () => {
    expect(await get('/to-page')).toMatchObject({ ok: true, url: `${server.url}/page` });
    expect(failure(await get('/to-metadata'))).toEqual({ code: 'url_not_allowed', reason: '169.254.169.254 is link-local (cloud metadata)' });
    expect(failure(await get('/to-file'))).toMatchObject({ code: 'url_not_accessible', reason: expect.stringContaining('not an http or https URL') });
    expect(failure(await get('/loop'))).toEqual({ code: 'url_not_accessible', reason: 'more than 5 redirects' });
    expect(failure(await get('/to-page', { limits: { maxRedirects: 0 } }))).toEqual({ code: 'url_not_accessible', reason: 'more than 0 redirects' });
  });

  it('a redirect to a host outside allowed_domains is refused', async () => {
    const rules = { allowed: ['127.0.0.1'] };
    expect(await get('/to-page', { rules })).toMatchObject({ ok: true });
    expect(failure(await get(`http://page.test:${server.port}/to-page`, { rules }))).toEqual({ code: 'url_not_allowed', reason: 'page.test is not in allowed_domains' });
  });

  it('a body that never ends is cut at maxBytes, and its connection closed', async () => {
    const closed = server.socketClosed('/forever');
    const outcome = await get('/forever', { limits: { maxBytes: 100_000 } });
    expect(outcome).toMatchObject({ ok: true, truncated: true });
    expect(outcome.ok && outcome.text.length).toBe(100_000);
    await closed;
  });

  it('a server that never answers is given up at timeoutMs, and its connection closed', async () => {
    const closed = server.socketClosed('/hang');
    const outcome = await get('/hang', { limits: { timeoutMs: 250 } });
    expect(failure(outcome)).toEqual({ code: 'url_not_accessible', reason: `no whole answer from 127.0.0.1:${server.port} within 250 ms` });
    await closed;
  });

  it('HTTP errors, rate limits and content that is not text', async () => {
    expect(failure(await get('/missing'))).toEqual({ code: 'url_not_accessible', reason: `127.0.0.1:${server.port} answered HTTP 404` });
    expect(failure(await get('/busy'))).toEqual({ code: 'too_many_requests', reason: `127.0.0.1:${server.port} answered HTTP 429` });
    expect(failure(await get('/image'))).toEqual({ code: 'unsupported_content_type', reason: 'image/png is not text or HTML' });
  });

  it('only http and https; no URL over 250 characters; an unknown host', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://127.0.0.1/', 'javascript:alert(1)', 'gopher://127.0.0.1:70/', 'not a url', '/relative']) {
      expect(failure(await get(url.startsWith('/') ? `x:${url}` : url))?.code).toBe('invalid_tool_input');
    }
    expect(failure(await get(`${server.url}/page?${'a'.repeat(250)}`))?.code).toBe('url_too_long');
    expect(failure(await get('http://nowhere.test/'))).toMatchObject({ code: 'url_not_accessible', reason: expect.stringContaining('nowhere.test does not resolve') });
  });
});

describe('fetchPage refuses every address class that is not public (never connecting)', () => {
  const refused: Array<[string, string]> = [
    ['http://127.0.0.1/', '127.0.0.1 is loopback'],
    ['http://127.8.9.10/', '127.8.9.10 is loopback'],
    ['http://[::1]/', '::1 is loopback'],
    ['http://10.0.0.1/', '10.0.0.1 is private'],
    ['http://172.16.0.1/', '172.16.0.1 is private'],
    ['http://172.31.255.254/', '172.31.255.254 is private'],
    ['http://192.168.1.1/', '192.168.1.1 is private'],
    ['http://[fc00::1]/', 'fc00::1 is unique local (private)'],
    ['http://[fd12:3456::1]/', 'fd12:3456::1 is unique local (private)'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is link-local (cloud metadata)'],
    ['http://[fe80::1]/', 'fe80::1 is link-local'],
    ['http://0.0.0.0/', '0.0.0.0 is unspecified'],
    ['http://[::]/', ':: is unspecified'],
    ['http://100.64.0.1/', '100.64.0.1 is shared address space (CGNAT)'],
    ['http://100.127.255.254/', '100.127.255.254 is shared address space (CGNAT)'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1 is loopback'],
    ['http://[::ffff:169.254.169.254]/', '::ffff:a9fe:a9fe is link-local (cloud metadata)'],
    ['http://2130706433/', '127.0.0.1 is loopback'],
    ['http://0x7f.1/', '127.0.0.1 is loopback'],
    ['http://224.0.0.1/', '224.0.0.1 is multicast'],
    ['http://internal.test/', 'internal.test resolves to 10.1.2.3, and 10.1.2.3 is private'],
    ['http://metadata.test/', 'metadata.test resolves to 169.254.169.254, and 169.254.169.254 is link-local (cloud metadata)'],
    ['http://six.test/', 'six.test resolves to ::1, and ::1 is loopback'],
    ['http://mapped.test/', 'mapped.test resolves to ::ffff:127.0.0.1, and ::ffff:127.0.0.1 is loopback'],
  ];
  it.each(refused)('%s: url_not_allowed (%s)', async (url, reason) => {
    const outcome = await fetchPage(url, {}, strict, resolver, LIMITS, never);
    expect(failure(outcome)).toEqual({ code: 'url_not_allowed', reason });
  });

  it('every address of a host is checked: one refused address among allowed ones refuses the host', async () => {
    const outcome = await fetchPage('http://mixed.test/', {}, allowLoopback, resolver, LIMITS, never);
    expect(failure(outcome)).toEqual({ code: 'url_not_allowed', reason: 'mixed.test resolves to 192.168.1.20, and 192.168.1.20 is private' });
  });

  it('allowPrivateAddresses lets in exactly what it names', () => {
    const guard = new AddressGuard(['127.0.0.1/32', 'fd00::/8']);
    expect(guard.refusal('127.0.0.1')).toBeUndefined();
    expect(guard.refusal('::ffff:127.0.0.1')).toBeUndefined();
    expect(guard.refusal('fd12::1')).toBeUndefined();
    expect(guard.refusal('127.0.0.2')).toBe('127.0.0.2 is loopback');
    expect(guard.refusal('fc00::1')).toBe('fc00::1 is unique local (private)');
    expect(guard.refusal('93.184.215.14')).toBeUndefined();
    expect(guard.refusal('2606:2800:21f:cb07:6820:80da:af6b:8b2c')).toBeUndefined();
  });
});

describe('allowed_domains and blocked_domains', () => {
  const url = (text: string) => new URL(text);
  it('a domain covers its subdomains; a path, what is under it', () => {
    expect(domainRefusal(url('https://docs.example.com/a'), { allowed: ['example.com'] })).toBeUndefined();
    expect(domainRefusal(url('https://example.com/a'), { allowed: ['https://Example.com'] })).toBeUndefined();
    expect(domainRefusal(url('https://badexample.com/'), { allowed: ['example.com'] })).toBe('badexample.com is not in allowed_domains');
    expect(domainRefusal(url('https://example.com/docs/x'), { allowed: ['example.com/docs'] })).toBeUndefined();
    expect(domainRefusal(url('https://example.com/other'), { allowed: ['example.com/docs'] })).toBe('example.com is not in allowed_domains');
    expect(domainRefusal(url('https://ads.example.com/'), { blocked: ['ads.example.com'] })).toBe('ads.example.com is in blocked_domains (ads.example.com)');
    expect(domainRefusal(url('https://example.com/'), { blocked: ['ads.example.com'] })).toBeUndefined();
    expect(domainRefusal(url('https://example.com/'), { allowed: [] })).toBeUndefined();
  });
});
