// The page's line charts: plain SVG, axes with a few labels, one line per series.

import { byId, h, s } from './dom.js';
import { clock, MINUTE } from './format.js';
import type { State } from './types.js';


export interface Series {
  label: string;
  cls: string;
  points: Array<[number, number]>;
  dashed?: boolean;
}

export function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/** Minute starts of the window, oldest first, ending with the current minute. */
export function minutesOf(state: State, now: number): number[] {
  const current = Math.floor(now / MINUTE);
  const out: number[] = [];
  for (let m = current - state.windowMinutes + 1; m <= current; m++) out.push(m * MINUTE);
  return out;
}

export function lineChart(svg: SVGSVGElement, series: Series[], minutes: number[], format: (v: number) => string, empty: string): void {
  const width = Math.max(200, Math.round(svg.getBoundingClientRect().width) || 600);
  const height = Math.max(80, Math.round(svg.getBoundingClientRect().height) || 170);
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  const left = 46;
  const right = 8;
  const top = 8;
  const bottom = 20;
  const x0 = minutes[0] ?? 0;
  const x1 = minutes[minutes.length - 1] ?? x0 + MINUTE;
  const maxY = Math.max(0, ...series.flatMap((line) => line.points.map(([, y]) => y)));
  const step = maxY > 0 ? niceStep(maxY / 4) : 1;
  const yMax = maxY > 0 ? Math.ceil(maxY / step) * step : 4;
  const yStep = maxY > 0 ? step : 1;
  const x = (t: number) => left + ((t - x0) / Math.max(1, x1 - x0)) * (width - left - right);
  const y = (v: number) => top + (1 - v / yMax) * (height - top - bottom);
  const nodes: SVGElement[] = [];

  for (let v = 0; v <= yMax + 1e-9; v += yStep) {
    nodes.push(s('line', { class: v === 0 ? 'axis' : 'grid', x1: left, x2: width - right, y1: y(v), y2: y(v) }));
    nodes.push(s('text', { x: left - 5, y: y(v) + 3.5, 'text-anchor': 'end' }, format(v)));
  }
  const everyOptions = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720];
  const fit = Math.max(1, Math.floor((width - left - right) / 70));
  const every = everyOptions.find((n) => minutes.length / n <= fit) ?? 1440;
  for (const t of minutes) {
    const minuteOfDay = Math.round((t - new Date(t).getTimezoneOffset() * MINUTE) / MINUTE);
    if (minuteOfDay % every !== 0) continue;
    nodes.push(s('line', { class: 'axis', x1: x(t), x2: x(t), y1: height - bottom, y2: height - bottom + 3 }));
    nodes.push(s('text', { x: x(t), y: height - 5, 'text-anchor': 'middle' }, clock(t, false)));
  }

  const hasData = series.some((line) => line.points.some(([, v]) => v > 0));
  if (!hasData) nodes.push(s('text', { class: 'empty', x: (left + width) / 2, y: (top + height - bottom) / 2, 'text-anchor': 'middle' }, empty));

  const hover = new Map<number, string[]>();
  for (const line of series) {
    let d = '';
    let previous: number | undefined;
    let run = 0;
    const singles: Array<[number, number]> = [];
    const sorted = [...line.points].sort((a, b) => a[0] - b[0]);
    sorted.forEach(([t, v], i) => {
      const joined = previous !== undefined && t - previous <= MINUTE;
      if (!joined) {
        if (run === 1 && i > 0) singles.push(sorted[i - 1]!);
        run = 0;
      }
      d += `${joined ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`;
      run++;
      previous = t;
      const labels = hover.get(t) ?? [];
      labels.push(`${line.label}: ${format(v)}`);
      hover.set(t, labels);
    });
    if (run === 1 && sorted.length > 0) singles.push(sorted[sorted.length - 1]!);
    if (d) nodes.push(s('path', { class: `series ${line.cls}${line.dashed ? ' dashed' : ''}`, d }));
    for (const [t, v] of singles) nodes.push(s('circle', { class: line.cls, cx: x(t), cy: y(v), r: 2.2 }));
  }

  // A transparent column per minute with data, whose title shows its values on hover.
  const column = Math.max(2, (width - left - right) / Math.max(1, minutes.length));
  for (const [t, labels] of hover) {
    const rect = s('rect', { x: x(t) - column / 2, y: top, width: column, height: height - top - bottom, fill: 'transparent' });
    rect.append(s('title', {}, `${clock(t, false)}\n${labels.join('\n')}`));
    nodes.push(rect);
  }
  svg.replaceChildren(...nodes);
}

export function legend(id: string, items: Array<{ label: string; cls: string; dashed?: boolean }>): void {
  byId(id).replaceChildren(...items.map((item) => h('span', { class: item.cls }, h('span', { class: `sw${item.dashed ? ' dash' : ''}` }), h('span', { class: 'muted' }, item.label))));
}

export const count = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
export const msAxis = (v: number) => (v >= 1000 ? `${count(v / 1000)} s` : `${Math.round(v)} ms`);
