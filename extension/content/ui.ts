/**
 * In-page UI: a badge per comment and a summary bar above the comments, each in a closed shadow
 * root so YouTube's styles cannot reach in and ours cannot leak out. All text is set with
 * textContent; comment text is never parsed as HTML.
 */
import { LABELS, type Label } from '../../core/labels.js';

export type Filter = Label | 'all';

const LABEL_TEXT: Record<Label, string> = { negative: 'Negative', neutral: 'Neutral', positive: 'Positive' };
/**
 * Shape as well as colour, so the label never depends on colour vision. Badges draw the shapes
 * with CSS (see .icon; text glyphs would need a fallback font in every badge); the summary bar and
 * the correction menu use these characters.
 */
const LABEL_ICON: Record<Label, string> = { negative: '▼', neutral: '●', positive: '▲' };

const BASE_CSS = `
  :host { all: initial; display: inline-flex; vertical-align: middle; font-family: Roboto, Arial, sans-serif; }
  :host([hidden]) { display: none; }
  button { font: inherit; cursor: pointer; }
  /* Light theme colours: text contrast ≥ 4.5:1 on the tinted backgrounds. */
  .negative { --fg: #a50e0e; --bg: #fce8e6; }
  .neutral  { --fg: #3c4043; --bg: #f1f3f4; }
  .positive { --fg: #0d652d; --bg: #e6f4ea; }
  .other    { --fg: #5f6368; --bg: #f1f3f4; }
  :host([data-theme="dark"]) .negative { --fg: #f6aea9; --bg: #5c1a1a; }
  :host([data-theme="dark"]) .neutral  { --fg: #dadce0; --bg: #3c4043; }
  :host([data-theme="dark"]) .positive { --fg: #a8dab5; --bg: #0f3d22; }
  :host([data-theme="dark"]) .other    { --fg: #bdc1c6; --bg: #303134; }
`;

const BADGE_CSS = `${BASE_CSS}
  /* A badge never wraps and never shrinks: in a narrow header it overflows rather than break up. */
  :host { margin-left: 8px; flex: none; white-space: nowrap; }
  /* Positioned only while the menu is open: a positioned element gets its own paint layer, which
     thousands of badges would pay for on every frame. */
  :host([data-open]) { position: relative; }
  .badge { display: inline-flex; align-items: center; gap: 4px; border: 1px solid var(--fg); border-radius: 10px; white-space: nowrap;
           padding: 0 7px; font-size: 11px; line-height: 18px; color: var(--fg); background: var(--bg); }
  .badge[hidden] { display: none; }
  /* Low confidence: calmer (no fill, dashed outline) so it reads as a guess. */
  .badge.low { border-style: dashed; background: transparent; }
  /* Triangles from borders, a circle from a radius: no clip-path or opacity, which would give each
     badge paint properties of its own. */
  .icon { flex: none; width: 0; height: 0; border: 4px solid transparent; }
  .negative .icon { border-top: 7px solid currentColor; border-bottom-width: 0; }
  .positive .icon { border-bottom: 7px solid currentColor; border-top-width: 0; }
  .neutral .icon { width: 7px; height: 7px; border: 0; border-radius: 50%; background: currentColor; }
  /* Low confidence: the shape outlined instead of filled (the circle), or lighter (the triangles). */
  .low.negative .icon { border-top-color: color-mix(in srgb, currentColor 45%, transparent); }
  .low.positive .icon { border-bottom-color: color-mix(in srgb, currentColor 45%, transparent); }
  .low.neutral .icon { width: 5px; height: 5px; background: transparent; border: 1px solid currentColor; }
  /* Another language: grey, no verdict, not a control. */
  .badge.other { cursor: default; font-style: italic; }
  .badge:focus-visible { outline: 2px solid #065fd4; outline-offset: 1px; }
  .menu { position: absolute; top: 22px; left: 0; z-index: 2000; display: flex; flex-direction: column; gap: 2px; padding: 6px;
          border-radius: 8px; background: #fff; color: #0f0f0f; box-shadow: 0 4px 16px rgba(0,0,0,.25); font-size: 12px; min-width: 180px; }
  :host([data-theme="dark"]) .menu { background: #282828; color: #f1f1f1; }
  .menu[hidden] { display: none; }
  .menu button { text-align: left; border: 0; border-radius: 4px; padding: 4px 6px; background: transparent; color: inherit; }
  .menu button:hover, .menu button:focus-visible { background: rgba(128,128,128,.2); }
  .note { font-size: 11px; opacity: .8; padding: 2px 6px; max-width: 220px; white-space: normal; }
`;

/**
 * One stylesheet per document, shared by every badge's shadow root (adoptedStyleSheets): a page
 * with thousands of comments parses the badge CSS once, not once per badge.
 */
const sheets = new WeakMap<Document, Map<string, CSSStyleSheet | null>>();
function attachStyles(doc: Document, root: ShadowRoot, css: string): void {
  let perDoc = sheets.get(doc);
  if (!perDoc) sheets.set(doc, (perDoc = new Map()));
  let sheet = perDoc.get(css);
  if (sheet === undefined) {
    try {
      const Ctor = (doc.defaultView as (Window & typeof globalThis) | null)?.CSSStyleSheet ?? CSSStyleSheet;
      sheet = new Ctor();
      sheet.replaceSync(css);
    } catch {
      sheet = null; // no constructable stylesheets: a <style> per root below
    }
    perDoc.set(css, sheet);
  }
  if (sheet) {
    try {
      root.adoptedStyleSheets = [sheet];
      return;
    } catch {
      perDoc.set(css, null);
    }
  }
  const style = doc.createElement('style');
  style.textContent = css;
  root.prepend(style);
}

export interface BadgeHandlers {
  onCorrect(label: Label): Promise<'sent' | 'queued-off'>;
}

/** What a badge shows: a sentiment (possibly low-confidence or corrected), or "language not supported". */
export type BadgeState = { kind: 'sentiment'; label: Label; score: number; low?: boolean; corrected?: boolean } | { kind: 'unsupported'; lang: string; languageName: string };

/** One comment's badge. The correction menu is built the first time it is opened. */
export class Badge {
  readonly host: HTMLSpanElement;
  private readonly root: ShadowRoot;
  private readonly button: HTMLButtonElement;
  private readonly caption: Text;
  private readonly info: HTMLSpanElement;
  private menu: HTMLDivElement | null = null;
  private note: HTMLDivElement | null = null;
  private label: Label = 'neutral';

  constructor(
    private readonly doc: Document,
    private readonly handlers: BadgeHandlers,
  ) {
    this.host = doc.createElement('span');
    this.host.setAttribute('data-ytsent-badge', '');
    this.root = this.host.attachShadow({ mode: 'closed' });
    attachStyles(doc, this.root, BADGE_CSS);
    this.button = doc.createElement('button');
    this.button.className = 'badge';
    this.button.setAttribute('aria-haspopup', 'menu');
    this.button.setAttribute('aria-expanded', 'false');
    const icon = doc.createElement('span');
    icon.className = 'icon';
    icon.setAttribute('aria-hidden', 'true');
    this.caption = doc.createTextNode('');
    this.button.append(icon, this.caption);
    this.button.addEventListener('click', (e) => {
      // YouTube handles clicks on the comment; ours stay ours.
      e.stopPropagation();
      this.toggleMenu(this.menu?.hidden ?? true);
    });
    // A comment in an unsupported language gets no verdict and nothing to correct: not a control.
    this.info = doc.createElement('span');
    this.info.className = 'badge other';
    this.info.setAttribute('role', 'img');
    this.info.hidden = true;
    this.host.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') this.toggleMenu(false);
    });
    this.root.append(this.button, this.info);
  }

  set(state: BadgeState): void {
    const d = this.host.dataset;
    if (state.kind === 'unsupported') {
      this.toggleMenu(false);
      this.button.hidden = true;
      this.info.hidden = false;
      const known = state.lang !== 'und' && state.lang !== 'other';
      this.info.textContent = known ? `${state.languageName}: not supported` : 'Language not supported';
      this.info.setAttribute('aria-label', known ? `${state.languageName}: language not supported` : 'Language not supported');
      this.info.title = 'Sentiment is not scored for comments in this language.';
      d.ytsentLabel = 'unsupported';
      d.ytsentLang = state.lang;
      delete d.ytsentScore;
      delete d.ytsentLowConfidence;
      return;
    }
    const { label, score, low = false, corrected = false } = state;
    this.label = label;
    this.button.hidden = false;
    this.info.hidden = true;
    const pct = Math.round(score * 100);
    const uncertain = low && !corrected;
    this.button.className = `badge ${label}${uncertain ? ' low' : ''}`;
    this.caption.data = corrected ? `${LABEL_TEXT[label]} (corrected)` : uncertain ? `${LABEL_TEXT[label]}, low confidence ${pct}%` : `${LABEL_TEXT[label]} ${pct}%`;
    this.button.setAttribute(
      'aria-label',
      corrected
        ? `Sentiment: ${label} (your correction)`
        : uncertain
          ? `Sentiment: ${label}, low confidence (${pct}%). Activate to correct.`
          : `Sentiment: ${label}, ${pct}% confidence. Activate to correct.`,
    );
    d.ytsentLabel = label;
    d.ytsentScore = score.toFixed(3);
    if (uncertain) d.ytsentLowConfidence = '';
    else delete d.ytsentLowConfidence;
  }

  setTheme(dark: boolean): void {
    const theme = dark ? 'dark' : 'light';
    if (this.host.dataset.theme !== theme) this.host.dataset.theme = theme;
  }

  private buildMenu(): HTMLDivElement {
    const doc = this.doc;
    const menu = doc.createElement('div');
    menu.className = 'menu';
    menu.setAttribute('role', 'menu');
    menu.hidden = true;
    const heading = doc.createElement('div');
    heading.className = 'note';
    heading.textContent = 'Wrong label? This comment is:';
    menu.append(heading);
    for (const l of LABELS) {
      const item = doc.createElement('button');
      item.setAttribute('role', 'menuitem');
      item.textContent = `${LABEL_ICON[l]} ${LABEL_TEXT[l]}`;
      item.addEventListener('click', (e) => {
        e.stopPropagation();
        void this.correct(l);
      });
      menu.append(item);
    }
    this.note = doc.createElement('div');
    this.note.className = 'note';
    this.note.setAttribute('role', 'status');
    menu.append(this.note);
    this.root.append(menu);
    return menu;
  }

  private toggleMenu(open: boolean): void {
    if (!open && !this.menu) return;
    this.menu ??= this.buildMenu();
    this.menu.hidden = !open;
    this.host.toggleAttribute('data-open', open);
    this.button.setAttribute('aria-expanded', String(open));
    if (open) {
      this.note!.textContent = '';
      (this.menu.querySelector('button') as HTMLButtonElement | null)?.focus();
    }
  }

  private async correct(label: Label): Promise<void> {
    const previous = this.label;
    try {
      const outcome = await this.handlers.onCorrect(label);
      this.set({ kind: 'sentiment', label, score: 1, corrected: true });
      this.host.dataset.ytsentCorrectedFrom = previous;
      this.note!.textContent =
        outcome === 'sent' ? 'Thanks: your correction will be sent (text samples are on).' : 'Changed on this page only. Turn on "comment text samples" in the options to send corrections.';
    } catch (err) {
      this.note!.textContent = `Could not save the correction: ${(err as Error).message}`;
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
  .count { color: var(--fg); font-weight: 500; white-space: nowrap; }
  .extra { font-size: 12px; opacity: .85; white-space: nowrap; }
  .extra[hidden] { display: none; }
  .filters { display: flex; gap: 6px; flex-wrap: wrap; }
  .filters button { border: 1px solid rgba(128,128,128,.5); border-radius: 14px; padding: 2px 10px; background: transparent; color: inherit; font-size: 12px; white-space: nowrap; }
  .filters button[aria-pressed="true"] { background: #065fd4; border-color: #065fd4; color: #fff; }
  .filters button:focus-visible { outline: 2px solid #065fd4; outline-offset: 1px; }
  .error { color: #c5221f; }
  :host([data-theme="dark"]) .error { color: #f28b82; }
`;

/** What the summary bar counts. */
export interface SummaryCounts {
  negative: number;
  neutral: number;
  positive: number;
  /** Comments in a language the model does not support: counted apart, left out of the shares. */
  other_languages: number;
  /** Of the three labels above, how many are low-confidence guesses. */
  low_confidence: number;
}

/** The summary bar above the comments: counts and shares per label, and a one-sentiment filter. */
export class SummaryBar {
  readonly host: HTMLDivElement;
  private readonly counts: Record<Label, HTMLSpanElement>;
  private readonly segments: Record<Label, HTMLSpanElement>;
  private readonly buttons: Record<Filter, HTMLButtonElement>;
  private readonly other: HTMLSpanElement;
  private readonly low: HTMLSpanElement;
  private readonly status: HTMLSpanElement;

  constructor(
    doc: Document,
    private readonly onFilter: (filter: Filter) => void,
  ) {
    this.host = doc.createElement('div');
    this.host.setAttribute('data-ytsent-summary', '');
    const root = this.host.attachShadow({ mode: 'closed' });
    attachStyles(doc, root, SUMMARY_CSS);
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
    // Only problems are reported here; model and runtime details are in the toolbar popup.
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
    this.low = doc.createElement('span');
    this.low.className = 'extra low';
    this.other = doc.createElement('span');
    this.other.className = 'extra other-languages';
    countsRow.append(this.low, this.other);

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
    root.append(bar);
    this.update({ negative: 0, neutral: 0, positive: 0, other_languages: 0, low_confidence: 0 });
  }

  update(counts: SummaryCounts): void {
    // Shares are of the comments the model can judge: other languages are counted apart.
    const total = counts.negative + counts.neutral + counts.positive;
    for (const l of LABELS) {
      const share = total ? counts[l] / total : 0;
      this.counts[l].textContent = `${LABEL_ICON[l]} ${LABEL_TEXT[l]} ${counts[l]} (${Math.round(share * 100)}%)`;
      this.segments[l].style.width = `${share * 100}%`;
      this.host.dataset[l] = String(counts[l]);
    }
    this.host.dataset.total = String(total);
    this.host.dataset.otherLanguages = String(counts.other_languages);
    this.host.dataset.lowConfidence = String(counts.low_confidence);
    this.other.hidden = counts.other_languages === 0;
    this.other.textContent = `${counts.other_languages} in other languages`;
    this.low.hidden = counts.low_confidence === 0;
    this.low.textContent = `${counts.low_confidence} low confidence`;
  }

  /** Shows a problem (scoring unavailable); an empty text clears it. */
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
