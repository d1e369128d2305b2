/**
 * The dashboard's live-monitoring part: the version's correction rate (95 % interval) per hourly
 * report, per-class quality estimated from corrections, scoring latency and error rate, and every
 * rollout in progress with its latest comparison windows. Counts only, like the rest of the page.
 */
import { LABELS } from '../../core/labels.js';
import type { CanaryWindow } from '../monitoring/canary.js';
import type { MonitorReport } from '../monitoring/report.js';
import { html } from 'hono/html';
import { type Html, lineChart } from './svg.js';

export interface RolloutView {
  channel: string;
  stable: string;
  candidate: string;
  percent: number;
  started_at: string;
  /** Newest first. */
  windows: CanaryWindow[];
}

export interface MonitoringData {
  latest: MonitorReport | null;
  /** Oldest first. */
  history: MonitorReport[];
  rollouts: RolloutView[];
  thresholds: { badWindows: number; qualityFloor: number };
}

const VERDICT_COLORS: Record<string, string> = { ok: '#2f9e44', worse: '#d64545', insufficient_data: '#7a7f87' };

const pct = (v: number | null | undefined, digits = 2) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(digits)} %`);
const num = (v: number | null | undefined, digits = 3) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits));

export function renderMonitoring(d: MonitoringData): Html {
  const r = d.latest;
  const rolloutRows = d.rollouts.map((ro) => {
    const badges = ro.windows
      .slice(0, 12)
      .map(
        (w) =>
          html`<span class="badge" style="background:${VERDICT_COLORS[w.verdict] ?? '#7a7f87'}" title="${`${w.window.from} → ${w.window.to}: candidate ${w.arms.candidate.corrections}/${w.arms.candidate.samples}, stable ${w.arms.stable.corrections}/${w.arms.stable.samples}, drift ${w.arms.candidate.drift_verdict}/${w.arms.stable.drift_verdict}`}">${w.verdict === 'insufficient_data' ? '?' : w.verdict}</span>`,
      );
    // Badges separated by a space, as text between markup.
    const cells = badges.flatMap((b, i) => (i ? [' ', b] : [b]));
    return html`<tr><td><code>${ro.channel}</code></td><td>${ro.stable}</td><td>${ro.candidate}</td><td>${String(ro.percent)} %</td><td>${ro.started_at}</td><td style="text-align:left">${cells.length ? cells : html`<span class="muted">no window evaluated yet</span>`}</td></tr>`;
  });
  const rollouts = d.rollouts.length
    ? html`<h3 style="margin:4px 0">Rollouts in progress</h3><p class="muted">Newest window first; ${d.thresholds.badWindows} worse windows in a row roll the candidate back.</p><table><tr><th>channel</th><th>stable</th><th>candidate</th><th>share</th><th>since</th><th>windows</th></tr>${rolloutRows}</table>`
    : html`<p class="muted">No rollout in progress.</p>`;

  if (!r) return html`<section><h3 style="margin:4px 0">Live monitoring</h3><p class="muted">No monitoring report yet: the hourly job writes one.</p>${rollouts}</section>`;

  const labels = d.history.map((h) => `${h.window.to.slice(5, 10)} ${h.window.to.slice(11, 13)}h`);
  const rate = (pick: (h: MonitorReport) => number | undefined) => d.history.map((h) => pick(h) ?? null);
  const maxRate = Math.max(0.05, ...d.history.map((h) => h.correction_rate?.upper ?? 0)) * 1.1;
  const chart = lineChart(
    [
      { name: 'correction rate', color: '#3b6fd6', values: rate((h) => h.correction_rate?.value) },
      { name: '95 % upper', color: '#9db5e8', values: rate((h) => h.correction_rate?.upper), dashed: true },
      { name: '95 % lower', color: '#9db5e8', values: rate((h) => h.correction_rate?.lower), dashed: true },
    ],
    {
      title: 'Correction rate per hourly report (corrections / comments scored by text-consent installs)',
      xLabels: labels,
      yMax: maxRate,
      rules: [{ y: 1 - d.thresholds.qualityFloor, label: `retraining floor ${pct(1 - d.thresholds.qualityFloor, 1)}`, color: '#d64545' }],
    },
  );
  const classRows = r.estimated
    ? LABELS.map((l) => {
        const c = r.estimated!.per_class[l];
        return html`<tr><td>${l}</td><td>${num(c.precision)}</td><td>${num(c.recall)}</td><td>${num(c.f1)}</td><td>${c.predicted}</td><td>${c.corrected_away}</td><td>${c.corrected_to}</td></tr>`;
      })
    : null;
  return html`<section><h3 style="margin:4px 0">Live monitoring (window ${r.window.from} → ${r.window.to})</h3>
<table><tr><th>measure</th><th>value</th><th>95 % interval</th><th>from</th></tr>
<tr><td>correction rate</td><td>${pct(r.correction_rate?.value)}</td><td>${r.correction_rate ? `${pct(r.correction_rate.lower)} – ${pct(r.correction_rate.upper)}` : '–'}</td><td>${r.corrections} corrections of ${r.samples} comments</td></tr>
<tr><td>scoring errors</td><td>${pct(r.error_rate?.value)}</td><td>${r.error_rate ? `${pct(r.error_rate.lower)} – ${pct(r.error_rate.upper)}` : '–'}</td><td>${r.error_rate ? `${r.error_rate.k} of ${r.error_rate.n} model calls` : 'no aggregate reported calls'}</td></tr>
<tr><td>latency p50 / p95 / p99</td><td>${r.latency_ms ? `${num(r.latency_ms.p50, 1)} / ${num(r.latency_ms.p95, 1)} / ${num(r.latency_ms.p99, 1)} ms` : '–'}</td><td></td><td>${r.latency_ms ? `${r.latency_ms.calls} model calls` : 'no aggregate reported latency'}</td></tr>
<tr><td>prediction drift</td><td>${r.drift?.verdict ?? '–'}</td><td></td><td>${r.drift ? `${r.drift.n} comments in aggregates` : ''}</td></tr>
</table>
${classRows ? html`<p class="muted">Per class, estimated from corrections (uncorrected comments count as correct, so these are optimistic); macro-F1 ${num(r.estimated!.macro_f1)}.</p><table><tr><th>class</th><th>precision</th><th>recall</th><th>F1</th><th>predicted</th><th>corrected away</th><th>corrected to</th></tr>${classRows}</table>` : ''}
${d.history.length ? chart : ''}
${rollouts}</section>`;
}
