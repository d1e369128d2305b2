/**
 * Tiny server-side SVG charts for the dashboard: no scripts, no remote assets, readable without
 * JavaScript. Built with hono/html's tagged template, which escapes every interpolated string (titles,
 * labels, colours) unless it is itself markup built the same way.
 */
import { html } from 'hono/html';

/** Markup from hono/html: escaped text and nested markup (a Promise only if a value was one; none here). */
export type Html = ReturnType<typeof html>;

export interface Series {
  name: string;
  color: string;
  /** One value per x slot; null = no data (the line breaks). */
  values: Array<number | null>;
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabels: string[];
  yMax: number;
  yMin?: number;
  width?: number;
  height?: number;
  /** Horizontal reference lines (thresholds, reference shares). */
  rules?: Array<{ y: number; label: string; color: string }>;
  yFormat?: (v: number) => string;
}

const PAD = { left: 48, right: 12, top: 28, bottom: 34 };

function frame(o: ChartOptions): { w: number; h: number; x: (i: number) => number; y: (v: number) => number; parts: Html[] } {
  const w = o.width ?? 640;
  const h = o.height ?? 220;
  const n = Math.max(1, o.xLabels.length);
  const yMin = o.yMin ?? 0;
  const span = o.yMax - yMin || 1;
  const plotW = w - PAD.left - PAD.right;
  const plotH = h - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (n === 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const y = (v: number) => PAD.top + plotH - ((Math.min(Math.max(v, yMin), o.yMax) - yMin) / span) * plotH;
  const fmt = o.yFormat ?? ((v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(2)));
  const parts: Html[] = [];
  parts.push(html`<text x="${PAD.left}" y="16" class="t">${o.title}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = yMin + (span * k) / 4;
    const yy = y(v).toFixed(1);
    parts.push(html`<line x1="${PAD.left}" x2="${w - PAD.right}" y1="${yy}" y2="${yy}" class="g"/>`);
    parts.push(html`<text x="${PAD.left - 6}" y="${yy}" class="yl" dominant-baseline="middle" text-anchor="end">${fmt(v)}</text>`);
  }
  const step = Math.max(1, Math.ceil(o.xLabels.length / 8));
  o.xLabels.forEach((label, i) => {
    if (i % step !== 0 && i !== o.xLabels.length - 1) return;
    parts.push(html`<text x="${x(i).toFixed(1)}" y="${h - 12}" class="xl" text-anchor="middle">${label}</text>`);
  });
  for (const r of o.rules ?? []) {
    const yy = y(r.y).toFixed(1);
    parts.push(html`<line x1="${PAD.left}" x2="${w - PAD.right}" y1="${yy}" y2="${yy}" stroke="${r.color}" stroke-dasharray="5 4" stroke-width="1.2"/>`);
    parts.push(html`<text x="${w - PAD.right}" y="${(Number(yy) - 4).toFixed(1)}" class="rl" text-anchor="end" fill="${r.color}">${r.label}</text>`);
  }
  return { w, h, x, y, parts };
}

function wrap(o: ChartOptions, w: number, h: number, parts: Html[], legend: Series[]): Html {
  let lx = PAD.left + 200;
  const items = legend.map((s) => {
    const item = html`<rect x="${lx}" y="8" width="10" height="10" fill="${s.color}"/><text x="${lx + 14}" y="17" class="lg">${s.name}</text>`;
    lx += 18 + s.name.length * 7;
    return item;
  });
  return html`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${w} ${h}" width="100%" role="img" aria-label="${o.title}"><title>${o.title}</title>${parts}${items}</svg>`;
}

export function lineChart(series: Series[], o: ChartOptions): Html {
  const { w, h, x, y, parts } = frame(o);
  for (const s of series) {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)} ${y(v).toFixed(1)} `;
      pen = true;
    });
    if (d) parts.push(html`<path d="${d.trim()}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? html` stroke-dasharray="4 3"` : ''}/>`);
    s.values.forEach((v, i) => {
      if (v !== null && Number.isFinite(v) && s.values.length <= 96) parts.push(html`<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.2" fill="${s.color}"/>`);
    });
  }
  return wrap(o, w, h, parts, series);
}

export function barChart(values: number[], color: string, o: ChartOptions): Html {
  const { w, h, x, y, parts } = frame(o);
  const n = Math.max(1, values.length);
  const plotW = w - PAD.left - PAD.right;
  const bw = Math.max(1, (plotW / n) * 0.7);
  values.forEach((v, i) => {
    if (v <= 0) return;
    const top = y(v);
    parts.push(
      html`<rect x="${(x(i) - bw / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${(y(o.yMin ?? 0) - top).toFixed(1)}" fill="${color}"><title>${o.xLabels[i] ?? ''}: ${v}</title></rect>`,
    );
  });
  return wrap(o, w, h, parts, []);
}
