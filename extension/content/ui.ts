/**
 * In-page UI: a badge per comment and a summary bar above the comments, each in a closed shadow
 * root so YouTube's styles cannot reach in and ours cannot leak out. All text is set with
 * textContent; comment text is never parsed as HTML.
 */
import { LABELS, type Label } from '../../core/labels.js';

export type Filter = Label | 'all';

const LABEL_TEXT: Record<Label, string> = { negative: 'Negative', neutral: 'Neutral', positive: 'Positive' };
/** Shape as well as colour, so the label never depends on colour vision. */
const LABEL_ICON: Record<Label, string> = { negative: '▼', neutral: '●', positive: '▲' };

const BASE_CSS = `
  :host { all: initial; display: inline-flex; vertical-align: middle; font-family: Roboto, Arial, sans-serif; }
  :host([hidden]) { display: none; }
  button { font: inherit; cursor: pointer; }
  /* Light theme colours: text contrast ≥ 4.5:1 on the tinted backgrounds. */
  .negative { --fg: #a50e0e; --bg: #fce8e6; }
  .neutral  { --fg: #3c4043; --bg: #f1f3f4; }
  .positive { --fg: #0d652d; --bg: #e6f4ea; }
  :host([data-theme="dark"]) .negative { --fg: #f6aea9; --bg: #5c1a1a; }
  :host([data-theme="dark"]) .neutral  { --fg: #dadce0; --bg: #3c4043; }
  :host([data-theme="dark"]) .positive { --fg: #a8dab5; --bg: #0f3d22; }
`;

const BADGE_CSS = `${BASE_CSS}
  :host { margin-left: 8px; position: relative; }
  .badge { display: inline-flex; align-items: center; gap: 4px; border: 1px solid var(--fg); border-radius: 10px;
           padding: 0 7px; font-size: 11px; line-height: 18px; color: var(--fg); background: var(--bg); }
  .badge:focus-visible { outline: 2px solid #065fd4; outline-offset: 1px; }
  .menu { position: absolute; top: 22px; left: 0; z-index: 2000; display: flex; flex-direction: column; gap: 2px; padding: 6px;
          border-radius: 8px; background: #fff; color: #0f0f0f; box-shadow: 0 4px 16px rgba(0,0,0,.25); font-size: 12px; min-width: 180px; }
  :host([data-theme="dark"]) .menu { background: #282828; color: #f1f1f1; }
  .menu[hidden] { display: none; }
  .menu button { text-align: left; border: 0; border-radius: 4px; padding: 4px 6px; background: transparent; color: inherit; }
  .menu button:hover, .menu button:focus-visible { background: rgba(128,128,128,.2); }
  .note { font-size: 11px; opacity: .8; padding: 2px 6px; max-width: 220px; }
`;

export interface BadgeHandlers {
  onCorrect(label: Label): Promise<'sent' | 'queued-off'>;
}

/** One comment's badge. */
export class Badge {
  readonly host: HTMLSpanElement;
  private readonly button: HTMLButtonElement;
  private readonly menu: HTMLDivElement;
  private readonly note: HTMLDivElement;
  private label: Label = 'neutral';

  constructor(
    doc: Document,
    private readonly handlers: BadgeHandlers,
  ) {
    this.host = doc.createElement('span');
    this.host.setAttribute('data-ytsent-badge', '');
    const root = this.host.attachShadow({ mode: 'closed' });
    const style = doc.createElement('style');
    style.textContent = BADGE_CSS;
    this.button = doc.createElement('button');
    this.button.className = 'badge';
    this.button.setAttribute('aria-haspopup', 'menu');
    this.button.setAttribute('aria-expanded', 'false');
    this.menu = doc.createElement('div');
    this.menu.className = 'menu';
    this.menu.setAttribute('role', 'menu');
    this.menu.hidden = true;
    const heading = doc.createElement('div');
    heading.className = 'note';
    heading.textContent = 'Wrong label? This comment is:';
    this.menu.append(heading);
    for (const l of LABELS) {
      const item = doc.createElement('button');
      item.setAttribute('role', 'menuitem');
      item.textContent = `${LABEL_ICON[l]} ${LABEL_TEXT[l]}`;
      item.addEventListener('click', (e) => {
        e.stopPropagation();
        void this.correct(l);
      });
      this.menu.append(item);
    }
    this.note = doc.createElement('div');
    this.note.className = 'note';
    this.note.setAttribute('role', 'status');
    this.menu.append(this.note);
    this.button.addEventListener('click', (e) => {
      // YouTube handles clicks on the comment; ours stay ours.
      e.stopPropagation();
      this.toggleMenu(this.menu.hidden);
    });
    this.host.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.toggleMenu(false);
    });
    root.append(style, this.button, this.menu);
  }

  set(label: Label, score: number, corrected = false): void {
    this.label = label;
    const pct = Math.round(score * 100);
    this.button.className = `badge ${label}`;
    this.button.textContent = `${LABEL_ICON[label]} ${LABEL_TEXT[label]}${corrected ? ' ✓' : ` ${pct}%`}`;
    this.button.setAttribute(
      'aria-label',
      corrected ? `Sentiment: ${label} (your correction)` : `Sentiment: ${label}, ${pct}% confidence. Activate to correct.`,
    );
    this.host.dataset.ytsentLabel = label;
    this.host.dataset.ytsentScore = score.toFixed(3);
  }

  setTheme(dark: boolean): void {
    this.host.dataset.theme = dark ? 'dark' : 'light';
  }

  private toggleMenu(open: boolean): void {
    this.menu.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    if (open) {
      this.note.textContent = '';
      (this.menu.querySelector('button') as HTMLButtonElement | null)?.focus();
    }
  }

  private async correct(label: Label): Promise<void> {
    const previous = this.label;
    try {
      const outcome = await this.handlers.onCorrect(label);
      this.set(label, 1, true);
      this.host.dataset.ytsentCorrectedFrom = previous;
      this.note.textContent =
        outcome === 'sent'
          ? 'Thanks: your correction will be sent (text samples are on).'
          : 'Changed on this page only. Turn on "comment text samples" in the options to send corrections.';
    } catch (err) {
      this.note.textContent = `Could not save the correction: ${(err as Error).message}`;
    }
  }
}

const SUMMARY_CSS = `${BASE_CSS}
  :host { display: block; margin: 8px 0 16px; }
  .bar { display: flex; flex-direction: column; gap: 8px; padding: 10px 12px; border-radius: 12px; font-size: 13px;
         color: #0f0f0f; background: #f2f2f2; }
  :host([data-theme="dark"]) .bar { color: #f1f1f1; background: #272727; }
  .top { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; }
  .title { font-weight: 500; }
  .local { font-size: 11px; opacity: .75; }
  .stack { display: flex; height: 8px; border-radius: 4px; overflow: hidden; background: rgba(128,128,128,.25); }
  .stack span { background: var(--fg); }
  .counts { display: flex; flex-wrap: wrap; gap: 12px; }
  .count { color: var(--fg); font-weight: 500; }
  .filters { display: flex; gap: 6px; flex-wrap: wrap; }
  .filters button { border: 1px solid rgba(128,128,128,.5); border-radius: 14px; padding: 2px 10px; background: transparent; color: inherit; font-size: 12px; }
  .filters button[aria-pressed="true"] { background: #065fd4; border-color: #065fd4; color: #fff; }
  .filters button:focus-visible { outline: 2px solid #065fd4; outline-offset: 1px; }
  .error { color: #c5221f; }
  :host([data-theme="dark"]) .error { color: #f28b82; }
`;

/** The summary bar above the comments: counts and shares per label, and a one-sentiment filter. */
export class SummaryBar {
  readonly host: HTMLDivElement;
  private readonly counts: Record<Label, HTMLSpanElement>;
  private readonly segments: Record<Label, HTMLSpanElement>;
  private readonly buttons: Record<Filter, HTMLButtonElement>;
  private readonly status: HTMLSpanElement;

  constructor(
    doc: Document,
    private readonly onFilter: (filter: Filter) => void,
  ) {
    this.host = doc.createElement('div');
    this.host.setAttribute('data-ytsent-summary', '');
    const root = this.host.attachShadow({ mode: 'closed' });
    const style = doc.createElement('style');
    style.textContent = SUMMARY_CSS;
    const bar = doc.createElement('section');
    bar.className = 'bar';
    bar.setAttribute('aria-label', 'Comment sentiment summary');
    const top = doc.createElement('div');
    top.className = 'top';
    const title = doc.createElement('span');
    title.className = 'title';
    title.textContent = 'Comment sentiment';
    const local = doc.createElement('span');
    local.className = 'local';
    local.textContent = 'scored on this device';
    this.status = doc.createElement('span');
    this.status.setAttribute('role', 'status');
    top.append(title, local, this.status);

    const stack = doc.createElement('div');
    stack.className = 'stack';
    stack.setAttribute('aria-hidden', 'true');
    const countsRow = doc.createElement('div');
    countsRow.className = 'counts';
    this.counts = {} as Record<Label, HTMLSpanElement>;
    this.segments = {} as Record<Label, HTMLSpanElement>;
    for (const l of ['positive', 'neutral', 'negative'] as const) {
      const seg = doc.createElement('span');
      seg.className = l;
      stack.append(seg);
      this.segments[l] = seg;
      const c = doc.createElement('span');
      c.className = `count ${l}`;
      countsRow.append(c);
      this.counts[l] = c;
    }

    const filters = doc.createElement('div');
    filters.className = 'filters';
    filters.setAttribute('role', 'group');
    filters.setAttribute('aria-label', 'Show comments by sentiment');
    this.buttons = {} as Record<Filter, HTMLButtonElement>;
    for (const f of ['all', 'positive', 'neutral', 'negative'] as const) {
      const b = doc.createElement('button');
      b.textContent = f === 'all' ? 'All' : `${LABEL_ICON[f]} ${LABEL_TEXT[f]} only`;
      b.dataset.filter = f;
      b.setAttribute('aria-pressed', String(f === 'all'));
      b.addEventListener('click', () => this.selectFilter(f));
      filters.append(b);
      this.buttons[f] = b;
    }
    bar.append(top, stack, countsRow, filters);
    root.append(style, bar);
    this.update({ negative: 0, neutral: 0, positive: 0 });
  }

  update(counts: Record<Label, number>): void {
    const total = counts.negative + counts.neutral + counts.positive;
    for (const l of LABELS) {
      const share = total ? counts[l] / total : 0;
      this.counts[l].textContent = `${LABEL_ICON[l]} ${LABEL_TEXT[l]} ${counts[l]} (${Math.round(share * 100)}%)`;
      this.segments[l].style.width = `${share * 100}%`;
      this.host.dataset[l] = String(counts[l]);
    }
    this.host.dataset.total = String(total);
  }

  setStatus(text: string, error = false): void {
    this.status.textContent = text;
    this.status.className = error ? 'error' : 'local';
  }

  setTheme(dark: boolean): void {
    this.host.dataset.theme = dark ? 'dark' : 'light';
  }

  selectFilter(filter: Filter): void {
    for (const [f, b] of Object.entries(this.buttons)) b.setAttribute('aria-pressed', String(f === filter));
    this.host.dataset.filter = filter;
    this.onFilter(filter);
  }
}
