/**
 * The YouTube DOM adapter: every YouTube selector and DOM assumption lives in this file.
 *
 * Written against YouTube's comment markup as of 2025-2026 (Polymer `ytd-*` elements; comments are
 * `ytd-comment-view-model`, formerly `ytd-comment-renderer`, both still matched):
 *
 *   ytd-comments#comments                     (watch page; on Shorts the comments engagement panel,
 *                                               ytd-engagement-panel-section-list-renderer[target-id=
 *                                               "engagement-panel-comments-section"], holds the same section)
 *     ytd-item-section-renderer#sections
 *       #header  ytd-comments-header-renderer (count, sort menu)
 *       #contents
 *         ytd-comment-thread-renderer         (one per top-level comment)
 *           #comment  ytd-comment-view-model
 *             #header-author #author-text
 *             #content-text  (yt-attributed-string: the comment text; emoji as <img alt=""
 *                             src=".../emoji_u1f602.png">, channel emoji as <img aria-label=":name:">)
 *             #published-time-text a[href*="lc="]   (the comment id)
 *           #replies  ytd-comment-replies-renderer
 *             #expander-contents #contents  ytd-comment-view-model   (replies, loaded on expand)
 *
 * If YouTube changes its markup, this file is the one to update (and tests/fixtures/youtube the
 * fixture pages that reproduce it).
 */

/*
 * YouTube repeats the same ids in every comment (thousands of `#content-text` on a long page).
 * Chromium answers `el.querySelector('#id')` (and `[id="id"]`) from the document's id map: every
 * element with that id, filtered to `el`'s descendants. Each such query then costs O(comments on
 * the page), and reading every comment O(n²): 50 µs a query with 2,000 comments. Wrapped in
 * `:is()` the same selector walks only the comment's own subtree (about 1 µs).
 */
const id = (name: string): string => `:is(#${name})`;

export const SELECTORS = {
  /** The comments section of a watch page or of the Shorts comments panel. */
  commentsSection: 'ytd-comments#comments, ytd-engagement-panel-section-list-renderer[target-id="engagement-panel-comments-section"]',
  /** Where the summary bar goes: above the list of threads. */
  sectionContents: `ytd-item-section-renderer#sections > ${id('contents')}`,
  thread: 'ytd-comment-thread-renderer',
  /** A single comment (top-level or reply), in the current and the previous markup. */
  comment: 'ytd-comment-view-model, ytd-comment-renderer',
  repliesContainer: 'ytd-comment-replies-renderer',
  text: id('content-text'),
  author: id('author-text'),
  /** Badge placement: after the author line, in the comment header. */
  headerAuthor: id('header-author'),
  permalink: `${id('published-time-text')} a[href*="lc="]`,
  videoTitle: 'ytd-watch-metadata h1, h1.ytd-watch-metadata, ytd-reel-video-renderer[is-active] h2, #title h1',
} as const;

/** YouTube fires this on its document after every in-app (SPA) navigation. */
export const NAVIGATE_EVENT = 'yt-navigate-finish';

/** The video id of a watch or Shorts URL, or null on other pages. */
export function videoIdFromUrl(url: string): string | null {
  const u = new URL(url);
  if (u.pathname === '/watch') return u.searchParams.get('v');
  const shorts = /^\/shorts\/([A-Za-z0-9_-]{6,})/.exec(u.pathname);
  return shorts ? shorts[1]! : null;
}

/** A comment element that is not the inner half of a transitional view-model/renderer pair. */
function isOuterComment(el: Element): boolean {
  return !el.parentElement?.closest(SELECTORS.comment);
}

/** Every comment element (top-level and replies) under `root` in document order. */
export function findComments(root: ParentNode): HTMLElement[] {
  // A ytd-comment-renderer nested in a ytd-comment-view-model (transitional markup) is the same comment.
  return Array.from(root.querySelectorAll<HTMLElement>(SELECTORS.comment)).filter(isOuterComment);
}

/**
 * The comments an added (or removed) subtree holds, itself included: what a MutationObserver
 * record brings, without looking at the rest of the page. For a subtree inside a comment (its
 * text, its header), see {@link outermostComment}.
 */
export function commentsIn(node: Node): HTMLElement[] {
  if (node.nodeType !== 1) return [];
  const el = node as HTMLElement;
  if (el.matches(SELECTORS.comment)) return [el];
  if (el.firstElementChild === null) return [];
  const found = el.querySelectorAll<HTMLElement>(SELECTORS.comment);
  if (found.length === 0) return [];
  // Inner halves of view-model/renderer pairs are skipped (within the subtree; the subtree's own
  // ancestors are checked by the caller through outermostComment).
  return Array.from(found).filter((c) => {
    const outer = c.parentElement?.closest(SELECTORS.comment);
    return !outer || !el.contains(outer);
  });
}

/** The comment whose text holds `node` (a text node, an emoji image, a span), or null. */
export function commentOfTextNode(node: Node): HTMLElement | null {
  const parent = node.nodeType === 1 ? (node as Element) : node.parentElement;
  const text = parent?.closest(SELECTORS.text);
  return text ? outermostComment(text) : null;
}

/** The outermost comment element containing `node` (itself included), or null. */
export function outermostComment(node: Element): HTMLElement | null {
  let c = node.closest<HTMLElement>(SELECTORS.comment);
  for (let up = c?.parentElement?.closest<HTMLElement>(SELECTORS.comment); up; up = up.parentElement?.closest<HTMLElement>(SELECTORS.comment)) c = up;
  return c ?? null;
}

/** Elements the extension adds to the page (badges, the summary bar): never comments, never text. */
export function isOwnElement(node: Node): boolean {
  return node.nodeType === 1 && ((node as Element).hasAttribute('data-ytsent-badge') || (node as Element).hasAttribute('data-ytsent-summary'));
}

/**
 * Emoji images: YouTube draws every emoji as an <img> whose `alt` is usually empty and whose `src`
 * names the emoji's code points, Noto-style: `.../emoji_u1f602.png`, ZWJ sequences and flags as
 * `emoji_u1f468_200d_1f373.png`, `emoji_u1f1e7_1f1f7.png` (also `.svg`/`.webp`, and the
 * `fonts.gstatic.com/s/e/notoemoji/<v>/1f602/72.png` directory form).
 */
const EMOJI_FILE_RE = /emoji_u([0-9a-f]{2,6}(?:[_-][0-9a-f]{2,6})*)\.(?:png|svg|webp|gif)(?:[?#]|$)/i;
const NOTO_DIR_RE = /\/notoemoji\/[^/]+\/([0-9a-f]{2,6}(?:_[0-9a-f]{2,6})*)\/[^/]*$/i;
/** A channel's custom emoji is named `:name:`; the name is kept whole as one token. */
const CUSTOM_EMOJI_RE = /^:[\p{L}\p{N}_+\-]+:$/u;
const PICTOGRAPHIC_RE = /\p{Extended_Pictographic}|\p{Regional_Indicator}/u;

/**
 * Code points that are text by default and need U+FE0F to be drawn as emoji (Noto file names drop
 * it: `emoji_u2764.png` is "❤️", `emoji_u0031_20e3.png` is "1️⃣").
 */
function wantsVariationSelector(cp: number, next: number | undefined): boolean {
  if (next === 0xfe0f || (next !== undefined && next >= 0x1f3fb && next <= 0x1f3ff)) return false;
  if (next === 0x20e3) return true; // keycap base: 0-9 # *
  if (cp === 0x200d || cp === 0x20e3) return false;
  return cp === 0xa9 || cp === 0xae || (cp >= 0x2000 && cp <= 0x2bff) || cp === 0x3030 || cp === 0x303d || cp === 0x3297 || cp === 0x3299;
}

/**
 * The emoji an image URL names, or null when the URL names none.
 *
 * @example emojiFromImageUrl('https://www.youtube.com/s/gaming/emoji/7ff574f2/emoji_u1f602.png') // '😂'
 * @example emojiFromImageUrl('emoji_u1f468_200d_1f373.png') // '👨‍🍳'
 */
export function emojiFromImageUrl(src: string): string | null {
  const path = src.split(/[?#]/, 1)[0]!;
  const m = EMOJI_FILE_RE.exec(path) ?? NOTO_DIR_RE.exec(path);
  if (!m) return null;
  const cps = m[1]!.split(/[_-]/).map((h) => parseInt(h, 16));
  if (cps.some((cp) => !(cp > 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff))) return null;
  let out = '';
  cps.forEach((cp, i) => {
    out += String.fromCodePoint(cp);
    if (wantsVariationSelector(cp, cps[i + 1])) out += '\ufe0f';
  });
  return out;
}

/**
 * What an inline image contributes to the comment's text: its `alt` when it has one (older markup
 * put the emoji there), else the emoji its file name names, else its `aria-label` or `title`
 * (custom channel emoji are labelled `:name:`). A `:name:` token is kept whole, set apart by spaces.
 */
export function imageText(img: HTMLImageElement): string {
  const token = (t: string): string => (CUSTOM_EMOJI_RE.test(t) ? ` ${t} ` : t);
  const alt = (img.getAttribute('alt') ?? '').trim();
  if (alt) return token(alt);
  const emoji = emojiFromImageUrl(img.getAttribute('src') ?? '');
  if (emoji) return emoji;
  const label = (img.getAttribute('aria-label') || img.getAttribute('title') || '').trim();
  // A label that is an emoji or a `:name:` counts; a description of some other image does not.
  return CUSTOM_EMOJI_RE.test(label) || PICTOGRAPHIC_RE.test(label) ? token(label) : '';
}

/**
 * The comment's text as the user sees it: text nodes, emoji images as their emoji (see
 * {@link imageText}), line breaks. Never innerHTML: markup in a comment stays text.
 */
export function commentText(comment: HTMLElement): string {
  const el = comment.querySelector<HTMLElement>(SELECTORS.text);
  return el ? textOf(el) : '';
}

/** The text of a `#content-text` element (see {@link commentText}). */
export function textOf(el: HTMLElement): string {
  let out = '';
  const walk = (node: Node): void => {
    if (node.nodeType === 3) out += node.nodeValue ?? '';
    else if (node.nodeName === 'IMG') out += imageText(node as HTMLImageElement);
    else if (node.nodeName === 'BR') out += '\n';
    else for (let c = node.firstChild; c; c = c.nextSibling) walk(c);
  };
  walk(el);
  // Custom emoji tokens are padded with spaces; collapse the doubles that leaves.
  return out.replace(/ {2,}/g, ' ').trim();
}

/** YouTube's comment id from the permalink (`&lc=<id>`), or null when not rendered yet. */
export function commentId(comment: HTMLElement): string | null {
  const href = comment.querySelector<HTMLAnchorElement>(SELECTORS.permalink)?.getAttribute('href');
  if (!href) return null;
  return new URL(href, location.origin).searchParams.get('lc');
}

export function isReply(comment: HTMLElement): boolean {
  return comment.closest(SELECTORS.repliesContainer) !== null;
}

/**
 * The thread a comment belongs to (a reply's thread is the top-level comment's), or null for a
 * comment outside any thread. The filter shows or hides threads as units.
 */
export function threadOf(comment: HTMLElement): HTMLElement | null {
  return comment.closest<HTMLElement>(SELECTORS.thread);
}

/** Where to put the badge: the end of the author line, else just before the text. */
export function badgeSlot(comment: HTMLElement): { parent: HTMLElement; before: Node | null } | null {
  const header = comment.querySelector<HTMLElement>(SELECTORS.headerAuthor);
  if (header) return { parent: header, before: null };
  const text = comment.querySelector<HTMLElement>(SELECTORS.text);
  return text?.parentElement ? { parent: text.parentElement, before: text } : null;
}

/** Where to put the summary bar (top of the comment list), or null when no comments section exists. */
export function summarySlot(doc: Document): { parent: HTMLElement; before: Node | null } | null {
  const section = doc.querySelector<HTMLElement>(SELECTORS.commentsSection);
  if (!section) return null;
  const contents = section.querySelector<HTMLElement>(SELECTORS.sectionContents);
  // The Shorts panel exists (empty) before its comments load: wait for the list.
  if (contents?.parentElement) return { parent: contents.parentElement, before: contents };
  return null;
}

/** YouTube marks its dark theme with a `dark` attribute on <html>. */
export function isDarkTheme(doc: Document): boolean {
  return doc.documentElement.hasAttribute('dark');
}

export function videoTitle(doc: Document): string {
  return doc.querySelector(SELECTORS.videoTitle)?.textContent?.trim() ?? doc.title.replace(/ - YouTube$/, '');
}
