/** Popup: the current video's sentiment distribution, examples, CSV export, and extension status. */
import { LABELS, type Label } from '../../core/labels.js';
import { languageName } from '../../core/langid.js';
import { toCsv } from '../lib/csv.js';
import type { VideoSummary } from '../lib/messages.js';
import type { Reply } from '../lib/send.js';
import { send } from '../lib/send.js';
import { executionName } from '../lib/execution.js';

const COLORS: Record<Label, string> = { negative: '#d93025', neutral: '#80868b', positive: '#188038' };
const NAMES: Record<Label, string> = { negative: 'Negative', neutral: 'Neutral', positive: 'Positive' };
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const SVG = 'http://www.w3.org/2000/svg';

interface Status {
  model: { version: string; format: string; source: string; languages: string[] | null; low_confidence_threshold: number };
  execution: string | null;
  settings: { backend_url: string; channel: string };
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
      score.textContent = ` (${Math.round(c.score * 100)}%${c.low_confidence ? ', low confidence' : ''})`;
      li.append(score);
      return li;
    }),
  );
  if (items.length === 0) list.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'none yet' }));
}

function exportCsv(summary: VideoSummary): void {
  // A comment in an unsupported language has no label: its probabilities are kept, for reference.
  const csv = toCsv(
    ['video_id', 'text', 'label', 'confidence', 'low_confidence', 'language', 'language_supported', 'p_negative', 'p_neutral', 'p_positive', 'is_reply', 'model_version'],
    summary.comments.map((c) => [
      summary.video_id ?? '',
      c.text,
      c.supported ? c.label : '',
      c.supported ? c.score.toFixed(4) : '',
      c.supported ? (c.low_confidence ? 'yes' : 'no') : '',
      c.lang,
      c.supported ? 'yes' : 'no',
      ...c.probs.map((p) => p.toFixed(4)),
      c.reply ? 'yes' : 'no',
      summary.model_version ?? '',
    ]),
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
    $('execution').textContent = executionName(status.execution);
    $('languages').textContent = status.model.languages ? status.model.languages.map(languageName).join(', ') : 'all comments scored (no language identification)';
    $('threshold').textContent = `${Math.round(status.model.low_confidence_threshold * 100)}% confidence`;
    $('backend').textContent = `${status.settings.backend_url} (${status.settings.channel})`;
    $('telemetry').textContent =
      status.telemetry.consent === null
        ? 'Off: nothing leaves this browser'
        : status.telemetry.consent === 'stats'
          ? `Anonymous hourly statistics (${status.telemetry.queued} queued)`
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
  // Shares are of the comments in supported languages; the others are counted apart.
  const supported = summary.comments.filter((c) => c.supported);
  const counts = { negative: 0, neutral: 0, positive: 0 };
  for (const c of supported) counts[c.label]++;
  const total = supported.length;
  const others = summary.comments.filter((c) => !c.supported);
  if (others.length > 0) {
    const langs = new Map<string, number>();
    for (const c of others) langs.set(c.lang, (langs.get(c.lang) ?? 0) + 1);
    const list = [...langs].sort((a, b) => b[1] - a[1]).map(([l, n]) => `${l === 'und' ? 'unidentified' : languageName(l)} ${n}`);
    $('other-languages').hidden = false;
    $('other-languages').textContent = `${others.length} in other languages, not scored (${list.join(', ')})`;
  }
  const low = supported.filter((c) => c.low_confidence).length;
  if (low > 0) {
    $('low-confidence').hidden = false;
    $('low-confidence').textContent = `${low} of these are low-confidence guesses`;
  }
  $('video').hidden = false;
  $('title').textContent = summary.title || summary.video_id;
  drawChart(counts, total);
  $('counts')
    .querySelector('tbody')!
    .replaceChildren(
      ...(['positive', 'neutral', 'negative'] as const).map((l) => {
        const tr = document.createElement('tr');
        tr.dataset.label = l;
        for (const text of [NAMES[l], String(counts[l]), `${total ? Math.round((counts[l] / total) * 100) : 0}%`]) tr.append(Object.assign(document.createElement('td'), { textContent: text }));
        return tr;
      }),
    );
  const by = (l: Label) =>
    supported
      .filter((c) => c.label === l)
      .sort((a, b) => b.score - a.score)
      .slice(0, 3);
  fillExamples('top-positive', by('positive'));
  fillExamples('top-negative', by('negative'));
  $('export').addEventListener('click', () => exportCsv(summary));
}

void main();
