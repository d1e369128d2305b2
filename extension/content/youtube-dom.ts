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
 *             #content-text  (yt-attributed-string: the comment text, emoji as <img alt>)
 *             #published-time-text a[href*="lc="]   (the comment id)
 *           #replies  ytd-comment-replies-renderer
 *             #expander-contents #contents  ytd-comment-view-model   (replies, loaded on expand)
 *
 * If YouTube changes its markup, this file is the one to update (and tests/fixtures/youtube the
 * fixture pages that reproduce it).
 */

export const SELECTORS = {
  /** The comments section of a watch page or of the Shorts comments panel. */
  commentsSection: 'ytd-comments#comments, ytd-engagement-panel-section-list-renderer[target-id="engagement-panel-comments-section"]',
  /** Where the summary bar goes: above the list of threads. */
  sectionContents: 'ytd-item-section-renderer#sections > #contents',
  thread: 'ytd-comment-thread-renderer',
  /** A single comment (top-level or reply), in the current and the previous markup. */
  comment: 'ytd-comment-view-model, ytd-comment-renderer',
  repliesContainer: 'ytd-comment-replies-renderer',
  text: '#content-text',
  author: '#author-text',
  /** Badge placement: after the author line, in the comment header. */
  headerAuthor: '#header-author',
  permalink: '#published-time-text a[href*="lc="]',
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

/** Every comment element (top-level and replies) under `root` in document order. */
export function findComments(root: ParentNode): HTMLElement[] {
  return Array.from(root.querySelectorAll<HTMLElement>(SELECTORS.comment)).filter(
    // A ytd-comment-renderer nested in a ytd-comment-view-model (transitional markup) is the same comment.
    (el) => !el.parentElement?.closest(SELECTORS.comment),
  );
}

/** Could this added node contain comments? Cheap test for MutationObserver batches. */
export function mayContainComments(node: Node): boolean {
  if (!(node instanceof HTMLElement)) return false;
  const tag = node.tagName;
  return tag.startsWith('YTD-') || tag.startsWith('YT-') || node.id === 'content-text' || node.querySelector(SELECTORS.comment) !== null;
}

/**
 * The comment's text as the user sees it. Emoji are rendered as <img alt="😂">, so images contribute
 * their alt text; everything else is textContent (never innerHTML: markup in a comment stays text).
 */
export function commentText(comment: HTMLElement): string {
  const el = comment.querySelector<HTMLElement>(SELECTORS.text);
  if (!el) return '';
  let out = '';
  const walk = (node: Node): void => {
    if (node.nodeType === Node.TEXT_NODE) out += node.nodeValue ?? '';
    else if (node instanceof HTMLImageElement) out += node.alt;
    else if (node instanceof HTMLBRElement) out += '\n';
    else node.childNodes.forEach(walk);
  };
  walk(el);
  return out.trim();
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

/** The element a sentiment filter hides: the whole thread for a top-level comment, else the reply. */
export function filterTarget(comment: HTMLElement): HTMLElement {
  if (isReply(comment)) return comment;
  return comment.closest<HTMLElement>(SELECTORS.thread) ?? comment;
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
