// The dashboard's page (issue 11): reads GET /ui/api/state (live through GET /ui/api/events) and
// draws it with plain DOM and SVG. Every value from the data goes in through text nodes, never
// as markup: error messages come from upstream servers.

import { append, byId, field, h, setText, type Child } from './dom.js';
import { ago, bytes, clock, duration, MINUTE, ms, percent, pill, stateOf, statusWord, sum, tone, usd } from './format.js';
import { count, legend, lineChart, minutesOf, msAxis, type Series } from './charts.js';
import type { Backend, Limit, RequestRow, State } from './types.js';

const PALETTE = 8;
const REFRESH_MS = 2000;

// ---------------------------------------------------------------------------------------------
// State and the clock

let last: State | undefined;
/** The server's clock minus ours: resets and minutes are the server's epoch ms. */
let skew = 0;
let receivedAt = 0;
let busy = false;
let mode: 'live' | 'polling' = 'live';
const colors = new Map<string, number>();

const serverNow = () => Date.now() + skew;

function colorOf(backend: string): string {
  let index = colors.get(backend);
  if (index === undefined) colors.set(backend, (index = colors.size));
  return `c${index % PALETTE}`;
}

function accept(state: State): void {
  receivedAt = Date.now();
  skew = state.at - receivedAt;
  last = state;
  render(state);
}

function render(state: State): void {
  for (const backend of state.backends) colorOf(backend.name);
  renderHeader(state);
  renderBackends(state);
  renderQuotas(state);
  renderCache(state);
  renderCharts(state);
  renderRequests(state);
  tick();
}

// ---------------------------------------------------------------------------------------------
// Header

function renderHeader(state: State): void {
  const status = state.status ?? 'unknown';
  setText(byId('status'), status);
  byId('status-pill').className = `pill ${tone(status)}`;
  setText(byId('active'), state.active);
  byId('readonly').hidden = !state.readOnly;
  document.title = `${status === 'ok' ? '' : `${status} · `}llm-proxy`;
}

// ---------------------------------------------------------------------------------------------
// Backends: one card each, kept between renders so a button under the pointer stays the same one.

interface Card {
  root: HTMLElement;
  tags: HTMLElement;
  activeTag: HTMLElement;
  pill: HTMLElement;
  meta: HTMLElement;
  latency: HTMLElement;
  inFlight: HTMLElement;
  probe: HTMLElement;
  detail: HTMLElement;
  endpoints: HTMLUListElement;
  button: HTMLButtonElement;
}

const cards = new Map<string, Card>();

function makeCard(name: string): Card {
  const pillEl = h('span', { class: 'pill', 'data-field': 'state' });
  const activeTag = h('span', { class: 'tag active', 'data-field': 'active' }, 'active');
  const tags = h('span', { class: 'tags' });
  const latency = h('dd');
  const inFlight = h('dd');
  const probe = h('dd');
  const button = h('button', { type: 'button', 'data-action': 'switch' }, 'Switch to this backend');
  button.addEventListener('click', () => void switchTo(name));
  const card: Card = {
    root: h(
      'article',
      { class: 'card', 'data-backend': name },
      h('div', { class: 'card-head' }, h('span', { class: 'name' }, name), tags, pillEl),
    ),
    tags,
    activeTag,
    pill: pillEl,
    meta: h('div', { class: 'meta' }),
    latency,
    inFlight,
    probe,
    detail: h('div', { class: 'detail' }),
    endpoints: h('ul', { class: 'endpoints' }),
    button,
  };
  append(card.root, [
    card.meta,
    h('dl', { class: 'facts' }, h('div', null, h('dt', null, 'latency'), latency), h('div', null, h('dt', null, 'in flight'), inFlight), h('div', null, h('dt', null, 'probed'), probe)),
    card.detail,
    card.endpoints,
  ]);
  return card;
}

function renderBackends(state: State): void {
  const container = byId('backend-cards');
  const seen = new Set<string>();
  state.backends.forEach((backend, index) => {
    seen.add(backend.name);
    let card = cards.get(backend.name);
    if (!card) cards.set(backend.name, (card = makeCard(backend.name)));
    updateCard(card, backend, state);
    if (container.children[index] !== card.root) container.insertBefore(card.root, container.children[index] ?? null);
  });
  for (const [name, card] of cards) {
    if (!seen.has(name)) {
      card.root.remove();
      cards.delete(name);
    }
  }
  if (state.backends.length === 0 && container.childElementCount === 0) container.append(h('p', { class: 'muted' }, 'No backends.'));
}

function updateCard(card: Card, backend: Backend, state: State): void {
  const health = backend.health;
  const isActive = backend.name === state.active;
  card.root.classList.toggle('is-active', isActive);

  card.tags.replaceChildren(h('span', { class: 'tag' }, backend.type));
  if (isActive) card.tags.append(card.activeTag);
  if (health?.circuit === 'half-open') card.tags.append(pill('half-open', 'small'));

  const word = stateOf(health);
  setText(card.pill, word);
  card.pill.className = `pill ${tone(word)}`;

  const meta: Child[] = [];
  if (typeof backend.model === 'string' && backend.model) meta.push(h('span', null, 'model ', h('code', null, backend.model)));
  if (typeof backend.url === 'string' && backend.url) meta.push(meta.length > 0 ? ' · ' : null, h('span', null, backend.url));
  card.meta.replaceChildren();
  append(card.meta, meta);
  card.meta.hidden = meta.length === 0;

  const endpoints = health?.endpoints ?? [];
  setText(card.latency, ms(health?.latencyMs));
  setText(card.inFlight, endpoints.length > 0 ? String(sum(endpoints.map((e) => e.inFlight))) : '–');
  setText(card.probe, health?.probeAgeSeconds === undefined ? '–' : ago(health.probeAgeSeconds * 1000));

  setText(card.detail, health?.detail ?? '');
  card.detail.hidden = !health?.detail;

  card.endpoints.replaceChildren(
    ...endpoints.map((e) =>
      h(
        'li',
        { 'data-endpoint': e.url },
        pill(statusWord(e.status), 'small'),
        h('span', { class: 'url', title: e.url }, e.url, e.detail ? h('span', { class: 'ep-detail' }, e.detail) : null),
        h('span', { class: 'tnum', title: 'in flight' }, `${e.inFlight} in flight`),
        e.latencyMs === undefined ? null : h('span', { class: 'tnum muted' }, ms(e.latencyMs)),
      ),
    ),
  );
  card.endpoints.hidden = endpoints.length === 0;

  if (isActive) card.button.remove();
  else if (!card.button.isConnected) card.root.append(card.button);
  card.button.disabled = state.readOnly || busy;
  card.button.title = state.readOnly ? 'read-only: this client may not act' : `make ${backend.name} the active backend`;
}

// ---------------------------------------------------------------------------------------------
// Quotas

function renderQuotas(state: State): void {
  const withQuota = state.backends.filter((b) => b.quota && b.quota.limits.length > 0);
  byId('quotas').hidden = withQuota.length === 0;
  byId('quota-cards').replaceChildren(
    ...withQuota.map((backend) => {
      const quota = backend.quota!;
      return h(
        'article',
        { class: 'card', 'data-quota': backend.name },
        h(
          'div',
          { class: 'card-head' },
          h('span', { class: 'name' }, backend.name),
          h('span', { class: 'muted tnum' }, `last answer ${quota.lastStatus}, `, h('span', { 'data-ago-at': String(quota.observedAt) }, ago(serverNow() - quota.observedAt))),
        ),
        ...quota.limits.map(limitRow),
      );
    }),
  );
}

function limitRow(limit: Limit): HTMLElement {
  const known = limit.limit !== undefined && limit.limit > 0;
  const fraction = known && limit.remaining !== undefined ? Math.max(0, Math.min(1, limit.remaining / limit.limit!)) : undefined;
  const fill = h('span');
  if (fraction !== undefined) fill.style.width = `${(fraction * 100).toFixed(1)}%`;
  const bar = h('div', { class: `bar${fraction === undefined ? '' : fraction <= 0.05 ? ' bad' : fraction <= 0.25 ? ' warn' : ''}` }, fill);
  const reset = h('span', { class: 'reset tnum', 'data-field': 'reset' });
  if (limit.resetAt !== undefined) reset.dataset.resetAt = String(limit.resetAt);
  else reset.textContent = 'reset time unknown';
  return h(
    'div',
    { class: 'limit', 'data-limit': `${limit.resource}/${limit.window}` },
    h(
      'div',
      { class: 'line' },
      h(
        'span',
        { class: 'tnum' },
        h('strong', { 'data-field': 'remaining' }, limit.remaining === undefined ? '?' : String(limit.remaining)),
        ' / ',
        limit.limit === undefined ? '?' : h('span', { 'data-field': 'limit' }, String(limit.limit)),
        ` ${limit.resource} per ${limit.window}`,
      ),
      reset,
    ),
    bar,
  );
}

/** Every second: the quota countdowns, the "ago"s and whether the data went stale. */
function tick(): void {
  const now = serverNow();
  for (const el of document.querySelectorAll<HTMLElement>('[data-reset-at]')) {
    const left = Number(el.dataset.resetAt) - now;
    setText(el, left > 0 ? `resets in ${duration(left)}` : 'refilled');
  }
  for (const el of document.querySelectorAll<HTMLElement>('[data-ago-at]')) setText(el, ago(now - Number(el.dataset.agoAt)));
  const conn = byId('conn');
  if (receivedAt === 0) return;
  const stale = Date.now() - receivedAt > 3 * REFRESH_MS + 1000;
  conn.classList.toggle('stale', stale);
  setText(conn, `${stale ? 'no update since' : mode === 'live' ? 'live, updated' : 'polling, updated'} ${clock(receivedAt)}`);
}

// ---------------------------------------------------------------------------------------------
// Cache

function renderCache(state: State): void {
  const root = byId('cache');
  const cache = state.cache;
  byId('cache-off').hidden = cache !== undefined;
  const clear = byId<HTMLButtonElement>('clear-cache');
  clear.disabled = state.readOnly || busy || cache === undefined;
  clear.title = state.readOnly ? 'read-only: this client may not act' : 'forget every answer the tiers that can be cleared hold';

  const savings = cache?.savings;
  const hits = savings ? sum(Object.values(savings.hits)) : 0;
  const lookups = hits + (savings?.misses ?? 0);
  setText(field(root, 'hit-rate'), percent(hits, lookups));

  // The last hour (or the whole window, if shorter) from the timeline, per tier.
  const span = Math.min(60, state.windowMinutes);
  const since = serverNow() - span * MINUTE;
  const hourHits: Record<string, number> = {};
  let hourMisses = 0;
  for (const point of state.timeline) {
    if (point.at + MINUTE <= since) continue;
    hourMisses += point.misses;
    for (const [tier, n] of Object.entries(point.hits)) hourHits[tier] = (hourHits[tier] ?? 0) + n;
  }
  const hourTotal = sum(Object.values(hourHits)) + hourMisses;
  const spanLabel = span >= 60 ? 'last hour' : `last ${span} min`;
  setText(field(root, 'hit-rate-hour'), `${spanLabel}: ${percent(hourTotal - hourMisses, hourTotal)}${lookups === 0 ? ' · no lookups yet' : ` of ${lookups} lookups`}`);
  setText(field(root, 'hour-head'), spanLabel);

  const tokens = field(root, 'tokens-served');
  const input = savings?.tokensServed.input ?? 0;
  const output = savings?.tokensServed.output ?? 0;
  setText(tokens, String(input + output));
  tokens.title = `${input} input and ${output} output tokens answered from the cache`;
  setText(field(root, 'tokens-split'), `${input} in / ${output} out`);
  setText(field(root, 'saved-usd'), usd(savings?.savedUsd ?? 0));
  setText(field(root, 'cache-counts'), savings ? `${savings.misses} misses · ${savings.stores} stored · ${savings.bypasses} bypassed` : '');

  const tiers = cache ? [...new Set([...Object.keys(cache.tiers), ...Object.keys(savings?.hits ?? {})])] : [];
  byId('tier-rows').replaceChildren(
    ...tiers.map((tier) => {
      const report = cache?.tiers[tier] ?? {};
      const entries = typeof report.entries === 'number' ? String(report.entries) : '–';
      const size = typeof report.bytes === 'number' ? `${bytes(report.bytes)}${typeof report.maxBytes === 'number' ? ` / ${bytes(report.maxBytes)}` : ''}` : '–';
      return h(
        'tr',
        { 'data-tier': tier },
        h('td', null, tier),
        h('td', { class: 'num' }, entries),
        h('td', { class: 'num' }, size),
        h('td', { class: 'num' }, String(savings?.hits[tier] ?? 0)),
        h('td', { class: 'num' }, percent(hourHits[tier] ?? 0, hourTotal)),
      );
    }),
  );
}

function renderCharts(state: State): void {
  const minutes = minutesOf(state, serverNow());
  const byMinute = new Map(state.timeline.map((point) => [point.at, point]));
  const names: string[] = [];
  for (const backend of state.backends) names.push(backend.name);
  for (const point of state.timeline) for (const name of Object.keys(point.backends)) if (!names.includes(name)) names.push(name);
  const withTraffic = names.filter((name) => state.timeline.some((point) => point.backends[name] !== undefined));
  const empty = `no traffic in the last ${state.windowMinutes} min`;

  lineChart(
    byId<SVGSVGElement>('chart-requests'),
    withTraffic.map((name) => ({ label: name, cls: colorOf(name), points: minutes.map((t): [number, number] => [t, byMinute.get(t)?.backends[name]?.requests ?? 0]) })),
    minutes,
    count,
    empty,
  );
  legend(
    'legend-requests',
    withTraffic.map((name) => ({ label: name, cls: colorOf(name) })),
  );

  const latency: Series[] = [];
  for (const name of withTraffic) {
    const p50: Array<[number, number]> = [];
    const p95: Array<[number, number]> = [];
    for (const point of state.timeline) {
      const b = point.backends[name];
      if (b?.p50Ms !== undefined) p50.push([point.at, b.p50Ms]);
      if (b?.p95Ms !== undefined) p95.push([point.at, b.p95Ms]);
    }
    latency.push({ label: `${name} p50`, cls: colorOf(name), points: p50 }, { label: `${name} p95`, cls: colorOf(name), points: p95, dashed: true });
  }
  lineChart(byId<SVGSVGElement>('chart-latency'), latency, minutes, msAxis, empty);
  legend('legend-latency', [
    ...withTraffic.map((name) => ({ label: name, cls: colorOf(name) })),
    ...(withTraffic.length > 0 ? [{ label: 'p50', cls: 'c-miss' }, { label: 'p95', cls: 'c-miss', dashed: true }] : []),
  ]);

  lineChart(
    byId<SVGSVGElement>('cache-chart'),
    [
      { label: 'hits', cls: 'c-hit', points: minutes.map((t): [number, number] => [t, sum(Object.values(byMinute.get(t)?.hits ?? {}))]) },
      { label: 'misses', cls: 'c-miss', points: minutes.map((t): [number, number] => [t, byMinute.get(t)?.misses ?? 0]), dashed: true },
    ],
    minutes,
    count,
    `no cache lookups in the last ${state.windowMinutes} min`,
  );
  legend('cache-legend', [
    { label: 'hits', cls: 'c-hit' },
    { label: 'misses', cls: 'c-miss', dashed: true },
  ]);
}

// ---------------------------------------------------------------------------------------------
// Requests

let requestsKey = '';

function renderRequests(state: State): void {
  const rows = state.requests;
  const key = `${rows.length}:${rows[0]?.id ?? ''}`;
  byId('no-requests').hidden = rows.length > 0;
  setText(byId('request-count'), rows.length > 0 ? `(${rows.length})` : '');
  if (key === requestsKey) return;
  requestsKey = key;
  const body = document.querySelector('#requests tbody');
  if (!body) return;
  body.replaceChildren(...rows.map(requestRow));
}

function requestRow(row: RequestRow): HTMLTableRowElement {
  const failed = row.status >= 400;
  const hit = row.cache === 'hit' || row.cache === 'semantic-hit';
  const tokens = row.inputTokens === undefined && row.outputTokens === undefined ? '–' : `${row.inputTokens ?? '–'} / ${row.outputTokens ?? '–'}`;
  return h(
    'tr',
    { class: failed ? 'fail' : undefined, 'data-status': String(row.status), 'data-cache': row.cache, 'data-id': row.id },
    h('td', { class: 'tnum', title: new Date(row.at).toString() }, clock(row.at)),
    h('td', null, row.backend ?? '–', row.endpoint ? h('span', { class: 'sub' }, row.endpoint) : null),
    h('td', null, row.model ?? '–', row.stream ? h('span', { class: 'sub' }, 'stream') : null),
    h('td', null, hit ? pill(row.tier ? `${row.cache} · ${row.tier}` : row.cache, 'small s-ok') : h('span', { class: 'muted' }, row.tier ? `${row.cache} · ${row.tier}` : row.cache)),
    h('td', { class: 'num status' }, String(row.status)),
    h('td', { class: 'num' }, ms(row.ttftMs)),
    h('td', { class: 'num' }, ms(row.durationMs)),
    h('td', { class: 'num' }, tokens),
    h('td', { class: 'error' }, failed ? h('span', { 'data-field': 'error' }, row.error ?? '') : null),
  );
}

// ---------------------------------------------------------------------------------------------
// Actions

let noticeTimer: ReturnType<typeof setTimeout> | undefined;

function notify(kind: 'ok' | 'error', message: string): void {
  const notice = byId('notice');
  clearTimeout(noticeTimer);
  const close = h('button', { type: 'button', 'aria-label': 'dismiss' }, '×');
  close.addEventListener('click', () => {
    notice.hidden = true;
  });
  notice.className = `notice ${kind}`;
  notice.replaceChildren(h('span', { class: 'msg' }, message), close);
  notice.hidden = false;
  if (kind === 'ok') noticeTimer = setTimeout(() => (notice.hidden = true), 6000);
}

function errorMessage(body: unknown, status: number): string {
  if (body && typeof body === 'object' && 'error' in body) {
    const error = body.error;
    if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string') return error.message;
  }
  return `the proxy answered HTTP ${status}`;
}

async function act(path: string, payload: Record<string, unknown>, success: (body: Record<string, unknown>) => string): Promise<void> {
  if (busy) return;
  busy = true;
  if (last) render(last);
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload), cache: 'no-store' });
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      body = undefined;
    }
    if (!res.ok) {
      notify('error', errorMessage(body, res.status));
      return;
    }
    notify('ok', success(body && typeof body === 'object' ? (body as Record<string, unknown>) : {}));
    await refresh();
  } catch (error) {
    notify('error', `the proxy could not be reached: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    busy = false;
    if (last) render(last);
  }
}

function switchTo(name: string): Promise<void> {
  return act('/ui/api/switch', { backend: name }, (body) => `Switched the active backend to ${typeof body.active === 'string' ? body.active : name}${typeof body.previous === 'string' ? ` (was ${body.previous})` : ''}.`);
}

function clearCache(): Promise<void> {
  return act('/ui/api/cache/clear', {}, (body) => {
    const cleared = Array.isArray(body.cleared) ? body.cleared.filter((t): t is string => typeof t === 'string') : [];
    return cleared.length > 0 ? `Cleared the cache (${cleared.join(', ')}).` : 'No cache tier could be cleared.';
  });
}

// ---------------------------------------------------------------------------------------------
// Data: server-sent events, polling if they fail.

function parse(text: string): State | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && Array.isArray((value as State).backends) && Array.isArray((value as State).requests)) return value as State;
  } catch {
    // ignored: the next update replaces it
  }
  return undefined;
}

async function refresh(): Promise<boolean> {
  const res = await fetch('/ui/api/state', { cache: 'no-store', headers: { accept: 'application/json' } });
  if (!res.ok) return false;
  const state = parse(await res.text());
  if (state) accept(state);
  return state !== undefined;
}

function poll(): void {
  mode = 'polling';
  const next = () => setTimeout(poll, REFRESH_MS);
  refresh().then(next, next);
}

function connect(): void {
  if (typeof EventSource === 'undefined') {
    poll();
    return;
  }
  const events = new EventSource('/ui/api/events');
  events.addEventListener('state', (event) => {
    const state = parse(String((event as MessageEvent<unknown>).data));
    if (state) {
      mode = 'live';
      accept(state);
    }
  });
  events.addEventListener('error', () => {
    events.close();
    poll();
  });
}

function start(): void {
  byId('clear-cache').addEventListener('click', () => void clearCache());
  let resizeTimer: ReturnType<typeof setTimeout> | undefined;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (last) renderCharts(last);
    }, 150);
  });
  setInterval(tick, 1000);
  connect();
}

start();
