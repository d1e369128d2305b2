/** Popup: the current video's sentiment distribution, examples, CSV export, and extension status. */
import { LABELS, type Label } from '../../core/labels.js';
import { toCsv } from '../lib/csv.js';
import type { VideoSummary } from '../lib/messages.js';
import type { Reply } from '../lib/send.js';
import { send } from '../lib/send.js';

const COLORS: Record<Label, string> = { negative: '#d93025', neutral: '#80868b', positive: '#188038' };
const NAMES: Record<Label, string> = { negative: 'Negative', neutral: 'Neutral', positive: 'Positive' };
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const SVG = 'http://www.w3.org/2000/svg';

interface Status {
  model: { version: string; format: string; source: string };
  execution: string | null;
  telemetry: { consent: 'stats' | 'text' | null; queued: number };
}

async function videoSummary(): Promise<VideoSummary | null> {
  // `?tab=<id>` opens the popup for a given tab (the popup opened as a page, e.g. by the tests).
  const requested = Number(new URLSearchParams(location.search).get('tab'));
  const tab = requested ? await chrome.tabs.get(requested) : (await chrome.tabs.query({ active: true, currentWindow: true }))[0];
  if (!tab?.id || !tab.url?.startsWith('https://www.youtube.com/')) return null;
  try {
    const reply = (await chrome.tabs.sendMessage(tab.id, { target: 'content', type: 'get-video-summary' })) as Reply<VideoSummary>;
    return reply.ok ? reply.data : null;
  } catch {
    return null; // no content script in this tab (opened before install, or not a video page)
  }
}

/** A donut chart; each arc's share is also in the table and the caption (not conveyed by colour alone). */
function drawChart(counts: Record<Label, number>, total: number): void {
  const svg = $('chart') as unknown as SVGSVGElement;
  svg.replaceChildren();
  const r = 40;
  const c = 2 * Math.PI * r;
  let offset = 0;
  for (const l of LABELS) {
    const share = total ? counts[l] / total : 0;
    const arc = document.createElementNS(SVG, 'circle');
    arc.setAttribute('cx', '50');
    arc.setAttribute('cy', '50');
    arc.setAttribute('r', String(r));
    arc.setAttribute('fill', 'none');
    arc.setAttribute('stroke', COLORS[l]);
    arc.setAttribute('stroke-width', '18');
    arc.setAttribute('stroke-dasharray', `${share * c} ${c}`);
    arc.setAttribute('stroke-dashoffset', String(-offset * c));
    arc.setAttribute('transform', 'rotate(-90 50 50)');
    svg.append(arc);
    offset += share;
  }
  $('chart-desc').textContent = LABELS.map((l) => `${NAMES[l]} ${total ? Math.round((counts[l] / total) * 100) : 0}%`).join(', ');
}

function fillExamples(id: string, items: VideoSummary['comments']): void {
  const list = $(id);
  list.replaceChildren(
    ...items.map((c) => {
      const li = document.createElement('li');
      li.textContent = c.text.length > 160 ? `${c.text.slice(0, 157)}…` : c.text;
      const score = document.createElement('span');
      score.className = 'score';
      score.textContent = ` (${Math.round(c.score * 100)}%)`;
      li.append(score);
      return li;
    }),
  );
  if (items.length === 0) list.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'none yet' }));
}

function exportCsv(summary: VideoSummary): void {
  const csv = toCsv(
    ['video_id', 'text', 'label', 'confidence', 'p_negative', 'p_neutral', 'p_positive', 'is_reply', 'model_version'],
    summary.comments.map((c) => [summary.video_id ?? '', c.text, c.label, c.score.toFixed(4), ...c.probs.map((p) => p.toFixed(4)), c.reply ? 'yes' : 'no', summary.model_version ?? '']),
  );
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }));
  const a = Object.assign(document.createElement('a'), { href: url, download: `ytsent-${summary.video_id ?? 'comments'}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function main(): Promise<void> {
  const [status, summary] = await Promise.all([send<Status>({ target: 'background', type: 'get-status' }).catch(() => null), videoSummary()]);
  if (status) {
    $('model').textContent = `${status.model.version} (${status.model.format === 'ngram-onnx' ? 'n-gram' : 'transformer'}, ${status.model.source})`;
    $('execution').textContent = status.execution ? status.execution.toUpperCase() : 'not loaded yet';
    $('telemetry').textContent =
      status.telemetry.consent === null
        ? 'Off: nothing leaves this browser'
        : status.telemetry.consent === 'stats'
          ? `Anonymous statistics (${status.telemetry.queued} queued)`
          : `Statistics and scrubbed comment text (${status.telemetry.queued} queued)`;
  }
  if (!summary || !summary.video_id) {
    $('message').textContent = 'Open a YouTube video or Short to see its comment sentiment.';
    return;
  }
  if (summary.comments.length === 0) {
    $('message').textContent = 'No comments scored yet: scroll down to the comments.';
    return;
  }
  const counts = { negative: 0, neutral: 0, positive: 0 };
  for (const c of summary.comments) counts[c.label]++;
  const total = summary.comments.length;
  $('video').hidden = false;
  $('title').textContent = summary.title || summary.video_id;
  drawChart(counts, total);
  $('counts').querySelector('tbody')!.replaceChildren(
    ...(['positive', 'neutral', 'negative'] as const).map((l) => {
      const tr = document.createElement('tr');
      tr.dataset.label = l;
      for (const text of [NAMES[l], String(counts[l]), `${Math.round((counts[l] / total) * 100)}%`]) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
      return tr;
    }),
  );
  const by = (l: Label) => summary.comments.filter((c) => c.label === l).sort((a, b) => b.score - a.score).slice(0, 3);
  fillExamples('top-positive', by('positive'));
  fillExamples('top-negative', by('negative'));
  $('export').addEventListener('click', () => exportCsv(summary));
}

void main();
