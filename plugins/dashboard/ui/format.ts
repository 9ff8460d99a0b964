// How the page writes numbers, times and states.

import { h } from './dom.js';
import type { BackendHealth } from './types.js';

export const MINUTE = 60_000;


export const pad = (n: number) => String(n).padStart(2, '0');

export function clock(at: number, seconds = true): string {
  const d = new Date(at);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
}

export function ms(value: number | undefined): string {
  if (value === undefined) return '–';
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(value < 10_000 ? 2 : 1)} s`;
}

export function bytes(value: number | undefined): string {
  if (value === undefined) return '–';
  if (value < 1024) return `${value} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = value / 1024;
  let unit = 0;
  while (v >= 1024 && unit < units.length - 1) {
    v /= 1024;
    unit++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[unit]}`;
}

export function usd(value: number): string {
  if (value <= 0) return '$0.00';
  if (value >= 0.01) return `$${value.toFixed(2)}`;
  const decimals = Math.min(8, 1 - Math.floor(Math.log10(value)));
  return `$${value.toFixed(decimals)}`;
}

export function duration(msLeft: number): string {
  const total = Math.ceil(msLeft / 1000);
  if (total < 60) return `${total} s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes} min ${total % 60} s`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ${minutes % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function ago(msAgo: number): string {
  if (msAgo < 1000) return 'just now';
  return `${duration(msAgo)} ago`;
}

export function percent(part: number, whole: number): string {
  return whole > 0 ? `${Math.round((part / whole) * 100)}%` : '–';
}

export const sum = (values: Iterable<number>) => {
  let total = 0;
  for (const v of values) total += v;
  return total;
};

/** The card's state word: exactly one of up, degraded, down, breaker open, unknown. */
export function stateOf(health: BackendHealth | undefined): string {
  if (health?.circuit === 'open') return 'breaker open';
  return statusWord(health?.status);
}

export function statusWord(status: string | undefined): string {
  if (status === 'ok' || status === 'up') return 'up';
  if (status === 'degraded' || status === 'down') return status;
  return 'unknown';
}

export function tone(word: string | undefined): string {
  if (word === 'up' || word === 'ok') return 's-ok';
  if (word === 'degraded' || word === 'half-open') return 's-warn';
  if (word === 'down' || word === 'breaker open') return 's-bad';
  return '';
}

export function pill(text: string, extra = ''): HTMLElement {
  return h('span', { class: `pill ${tone(text)} ${extra}`.trim() }, text);
}
