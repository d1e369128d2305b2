/**
 * PII scrubber: replaces emails, URLs, @handles and phone numbers with fixed placeholders.
 *
 * Runs in the extension before anything is queued for upload, and again in the worker on arrival
 * (never trust the client). The placeholders are ones the normalizer maps to the same tokens as the
 * raw identifiers, so a model retrained on scrubbed samples sees the features it is served.
 */

export const SCRUB_PLACEHOLDER = {
  email: '[email]',
  url: '[url]',
  handle: '@user',
  phone: '[phone]',
} as const;

export type ScrubKind = keyof typeof SCRUB_PLACEHOLDER;

// A URL never ends in sentence punctuation, so "see x.com/a, then" keeps its comma.
const URL_RE =
  /\b(?:https?:\/\/|www\.)[^\s<>"]*[^\s<>".,!?;:)\]']|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:com|net|org|io|be|ly|co|tv|gg|me|app|dev|uk|de|fr|es|br|in)\b(?:\/(?:[^\s<>"]*[^\s<>".,!?;:)\]'])?)?/giu;
const EMAIL_RE = /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu;
// YouTube handles: letters, digits, '_', '-', '.'; "@user" itself is already anonymous.
const HANDLE_RE = /(?<![\p{L}\p{N}_])@(?!user\b)[\p{L}\p{N}_.-]*[\p{L}\p{N}_]/gu;
// Candidate phone numbers: digit groups with space, dot or dash separators and optional +country and
// (area) parts; kept only with 7 to 15 digits so years, prices and "2:35" time stamps survive.
const PHONE_RE = /(?<![\p{L}\p{N}])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,15}(?:[\s.-]\d{2,6}){0,4}(?![\p{L}\p{N}])/gu;

export interface ScrubResult {
  text: string;
  /** How many of each kind were replaced (lets telemetry report scrub rates without the values). */
  counts: Record<ScrubKind, number>;
}

/**
 * Scrub `text`.
 *
 * @example
 * scrub('mail me: a.b@x.org or +1 (555) 123-4567, @Some_Handle').text
 * // 'mail me: [email] or [phone], @user'
 */
export function scrub(text: string): ScrubResult {
  const counts: Record<ScrubKind, number> = { email: 0, url: 0, handle: 0, phone: 0 };
  let out = text.replace(EMAIL_RE, () => (counts.email++, SCRUB_PLACEHOLDER.email));
  out = out.replace(URL_RE, () => (counts.url++, SCRUB_PLACEHOLDER.url));
  out = out.replace(HANDLE_RE, () => (counts.handle++, SCRUB_PLACEHOLDER.handle));
  out = out.replace(PHONE_RE, (match) => {
    const digits = match.replace(/\D/g, '').length;
    if (digits < 7 || digits > 15) return match;
    counts.phone++;
    return SCRUB_PLACEHOLDER.phone;
  });
  return { text: out, counts };
}

/** Scrubbed text only. */
export function scrubText(text: string): string {
  return scrub(text).text;
}
