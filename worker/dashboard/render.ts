/**
 * The operator dashboard: one self-contained HTML page (inline CSS and SVG, no scripts, no remote
 * assets) with label shares over time, comment volume, and drift distances against thresholds.
 * Everything on it comes from the on-device hourly aggregates (consent "stats"): counts over at
 * least ten comments each, never a comment.
 */
import { html, raw } from 'hono/html';
import { LABELS } from '../../core/labels.js';
import type { DriftReport, HourSummary } from '../drift/aggregate.js';
import { HOUR_MS, hourKey } from '../lib/keys.js';
import { renderMonitoring, type MonitoringData } from './monitoring.js';
import { barChart, type Html, lineChart, type Series } from './svg.js';

export interface DashboardData {
  version: string | null;
  versions: string[];
  channels: Array<{ channel: string; version: string; candidate?: { version: string; percent: number } | null }>;
  hours: number;
  nowMs: number;
  summaries: HourSummary[];
  /** Stored reports, oldest first. */
  reports: DriftReport[];
  latest: DriftReport | null;
  /** Live monitoring of the version and the rollouts in progress (absent: not shown). */
  monitoring?: MonitoringData;
}

const LABEL_COLORS: Record<string, string> = { negative: '#d64545', neutral: '#7a7f87', positive: '#2f9e44' };
const VERDICT_COLORS: Record<string, string> = { ok: '#2f9e44', warn: '#e8a33d', drift: '#d64545', insufficient_data: '#7a7f87', no_reference: '#7a7f87' };

const CSS = `body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2125}
header{background:#1d2125;color:#fff;padding:14px 24px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header h1{font-size:18px;margin:0}header form{margin-left:auto;display:flex;gap:8px;align-items:center}
main{max-width:1100px;margin:0 auto;padding:16px 24px}section{background:#fff;border:1px solid #e3e5e8;border-radius:8px;padding:12px 16px;margin:12px 0}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:12px}.badge{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600}
.t{font-size:13px;font-weight:600;fill:#1d2125}.g{stroke:#eceef1}.yl,.xl{font-size:10px;fill:#6b7178}.rl{font-size:10px}.lg{font-size:11px;fill:#1d2125}
table{border-collapse:collapse;font-size:12px}td,th{padding:3px 8px;border-bottom:1px solid #eceef1;text-align:right}th:first-child,td:first-child{text-align:left}
.muted{color:#6b7178}code{background:#eef0f3;padding:1px 4px;border-radius:3px}`;

function fmt(v: number | null | undefined, digits = 3): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

export function renderDashboard(d: DashboardData): Html {
  const endMs = Math.floor(d.nowMs / HOUR_MS) * HOUR_MS;
  const hourKeys: string[] = [];
  for (let t = endMs - (d.hours - 1) * HOUR_MS; t <= endMs; t += HOUR_MS) hourKeys.push(hourKey(t));
  const byHour = new Map(d.summaries.map((s) => [s.hour, s]));
  const xLabels = hourKeys.map((h) => `${h.slice(5, 10)} ${h.slice(11)}h`);

  const shareSeries: Series[] = LABELS.map((label, li) => ({
    name: label,
    color: LABEL_COLORS[label]!,
    values: hourKeys.map((h) => {
      const s = byHour.get(h);
      return s && s.n > 0 ? s.label_counts[li]! / s.n : null;
    }),
  }));
  const refShares = d.latest?.reference?.label_shares;
  const sharesChart = lineChart(shareSeries, {
    title: 'Label shares per hour (dashed: training reference)',
    xLabels,
    yMax: 1,
    rules: refShares ? LABELS.map((label, li) => ({ y: refShares[li]!, label: `ref ${label}`, color: LABEL_COLORS[label]! })) : [],
  });
  const volumes = hourKeys.map((h) => byHour.get(h)?.n ?? 0);
  const volumeChart = barChart(volumes, '#3b6fd6', {
    title: `Comments per hour, from on-device aggregates (total ${volumes.reduce((a, b) => a + b, 0)})`,
    xLabels,
    yMax: Math.max(10, ...volumes),
    yFormat: (v) => v.toFixed(0),
  });

  const reports = d.reports.filter((r) => r.tests !== null);
  const rLabels = reports.map((r) => `${r.window.to.slice(5, 10)} ${r.window.to.slice(11, 13)}h`);
  const testCharts = (
    [
      ['labels_js', 'Jensen-Shannon distance, labels'],
      ['tokens_js', 'Jensen-Shannon distance, hashed tokens'],
      ['confidence_psi', 'PSI, confidence'],
      ['confidence_wasserstein', 'Normalized Wasserstein, confidence'],
      ['confidence_ks', 'KS p-value, confidence (warn below threshold)'],
    ] as const
  ).map(([test, title]) => {
    const values = reports.map((r) => {
      const t = r.tests![test];
      return 'value' in t ? t.value : t.p_value;
    });
    const last = reports[reports.length - 1]?.tests?.[test];
    const threshold = last?.threshold ?? 0.1;
    const rules = [{ y: threshold, label: `threshold ${threshold}`, color: '#d64545' }];
    if (last && 'warn' in last) rules.push({ y: last.warn, label: `warn ${last.warn}`, color: '#e8a33d' });
    const finite = values.filter((v) => Number.isFinite(v));
    const yMax = test === 'confidence_ks' ? 1 : Math.max(threshold * 2, ...finite) * 1.1;
    return lineChart([{ name: test, color: '#3b6fd6', values }], { title, xLabels: rLabels, yMax, rules, width: 520, height: 200 });
  });

  const latest = d.latest;
  const verdict = latest?.verdict ?? 'no report yet';
  const testRows = latest?.tests
    ? Object.entries(latest.tests).map(
        ([name, t]) =>
          html`<tr><td>${name}</td><td>${fmt('value' in t ? t.value : t.p_value, 4)}</td><td>${fmt(t.threshold, 2)}</td><td><span class="badge" style="background:${VERDICT_COLORS[t.verdict]}">${t.verdict}</span></td></tr>`,
      )
    : null;
  const options = d.versions.map((v) => html`<option value="${v}"${v === d.version ? ' selected' : ''}>${v}</option>`);
  const channelText = d.channels.length
    ? d.channels.map((c, i) => html`${i ? ' · ' : ''}<code>${c.channel}</code> → ${c.version}${c.candidate ? ` (${c.candidate.version} to ${String(c.candidate.percent)} %)` : ''}`)
    : 'no channels yet';
  const dataRows = hourKeys
    .filter((h) => byHour.has(h))
    .map((h) => {
      const s = byHour.get(h)!;
      return html`<tr><td>${h}</td><td>${s.n}</td><td>${s.aggregates ?? 0}</td>${s.label_counts.map((c) => html`<td>${fmt(s.n ? c / s.n : null)}</td>`)}</tr>`;
    });

  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ytsent dashboard${d.version ? ` · ${d.version}` : ''}</title><style>${
    // A constant of this file, not data: CSS must not be entity-escaped (a child selector's `>` would break).
    raw(CSS)
  }</style></head>
<body><header><h1>ytsent · drift dashboard</h1><span>${channelText}</span>
<form method="get" action="/dashboard"><label>model <select name="model_version">${options}</select></label>
<label>hours <input name="hours" type="number" min="1" max="720" value="${d.hours}" style="width:5em"></label><button>show</button></form></header>
<main>
${
  d.version === null
    ? html`<section><p>No model version yet: publish one and promote it (<code>npm run publish-model</code>).</p></section>`
    : html`<section><h2 style="margin:0 0 6px">Model ${d.version}: <span class="badge" style="background:${VERDICT_COLORS[verdict] ?? '#7a7f87'}">${verdict}</span></h2>
<p class="muted">${latest ? `Latest report ${latest.generated_at}, window ${latest.window.from} → ${latest.window.to} (${latest.window.hours} h), ${latest.n} comments in aggregates; reference: ${latest.reference?.source ?? 'none'} (n=${latest.reference?.n ?? 0}).` : 'No drift report yet: the hourly job writes one.'}</p>
${testRows ? html`<table><tr><th>test</th><th>value</th><th>threshold</th><th>verdict</th></tr>${testRows}</table>` : ''}
${latest?.skipped.length ? html`<p class="muted">Skipped: ${latest.skipped.map((s) => `${s.test} (${s.reason})`).join('; ')}</p>` : ''}</section>
${d.monitoring ? renderMonitoring(d.monitoring) : ''}
<section>${sharesChart}</section>
<section>${volumeChart}</section>
<section><h3 style="margin:4px 0">Drift distances per report (${reports.length} reports)</h3><div class="grid">${testCharts.map((s) => html`<div>${s}</div>`)}</div></section>
<section><details><summary>Hourly numbers</summary><table><tr><th>hour (UTC)</th><th>comments</th><th>aggregates</th>${LABELS.map((l) => html`<th>${l}</th>`)}</tr>${dataRows}</table></details></section>`
}
<p class="muted">Generated ${new Date(d.nowMs).toISOString()}. Aggregates only: no comment text is shown here. JSON: <code>/v1/drift</code>, <code>/v1/drift/history</code>; metrics: <code>/metrics</code>.</p>
</main></body></html>`;
}
