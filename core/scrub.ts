/**
 * PII scrubber: replaces emails, URLs, @handles, phone numbers, payment card numbers and IBANs with
 * fixed placeholders.
 *
 * Runs once per item in the extension, when the item is built for the telemetry queue
 * (extension/lib/telemetry-queue.ts), and again in the worker on arrival (never trust the client).
 * `[email]`, `[url]`, `[phone]` and `@user` are placeholders the normalizer (normalize.ts) maps to
 * the same tokens as the identifiers they replace, so a model retrained on scrubbed samples sees the
 * features it is served; `[card]` and `[iban]` are newer and read as the words "card" and "iban"
 * until a normalizer version maps them to the number placeholder.
 *
 * How each kind is found (maintained libraries where they exist):
 * - URLs and emails: linkify-it, with fuzzy links (no scheme) on every IANA top-level domain (the
 *   `tlds` list), so `mysite.xyz` and `example.ru/x` count, plus IPv4 hosts. A schema-less match whose
 *   top-level domain has capitals the rest of the host does not and which has no path ("I love it.So
 *   good", "Jewelry.RSVP") is a missing space after a full stop, not a link.
 * - @handles: YouTube's handle alphabet (letters, digits, `_`, `-`, `.`); `@user` is already anonymous.
 * - Payment cards: 13 to 19 digits grouped like a card (no separators, 4-4-4-4 with an optional short
 *   last group, or the 4-6-5 / 4-6-4 of Amex and Diners), first digit 2 to 6, Luhn check.
 * - IBANs: a registry country code, two check digits, a mostly numeric account part of 11 to 30
 *   letters and digits, optionally in space-separated groups, ISO 7064 mod-97 check.
 * - Phone numbers: libphonenumber-js (the `min` metadata) finds them, in two passes: US as default
 *   country with "possible" leniency (North American numbers, fictional 555 ones included, and every
 *   number written with `+` and a country code), and Germany with "valid" leniency (its variable
 *   length plan accepts the national formats of most countries: `07700 900123`, `06 12 34 56 78`,
 *   `98765 43210`, `(11) 91234-5678`). Which country a number belongs to does not matter here, only
 *   that the span is one. Spans are then dropped when they are something else that libphonenumber
 *   would take: dates (2024-01-15, 15.01.2024, 1939-1945), numbers grouped in thousands (1.234.567,
 *   1 000 000), prices (next to a currency sign), decimals and versions (3.14159265, 10.0.19045),
 *   lists of small numbers (2 4 6 8 10 12 14), years (2024 2025 2026), anything glued to a Latin
 *   letter, and plain digit runs that do not have the shape of a dialled number (1234567890 views).
 *   Commas and semicolons end a number (libphonenumber would read ", 555" as a dialling pause and
 *   extension and swallow the start of a second number).
 *
 * Everything is matched on a folded copy of the text: NFKC per code point (full-width digits, letters
 * and punctuation become ASCII) and decimal digits of every script (Arabic-Indic, Devanagari, ...) as
 * ASCII digits. Replacements are made in the original text, so what survives is exactly what the user
 * wrote. Overlaps are resolved left to right: the match that starts first wins, then the earlier kind
 * in {@link SCRUB_KINDS}, then the longer one.
 *
 * Time is linear in the length of the text: each detector is one left-to-right scan whose patterns
 * backtrack a bounded amount, card and IBAN candidates are checked in windows of bounded length, and
 * libphonenumber bounds its candidates itself (bench/scrub.ts measures 1, 10 and 100 KB).
 */
import { findPhoneNumbersInText, type CountryCode } from 'libphonenumber-js/min';
import { LinkifyIt } from 'linkify-it';
import TLDS from 'tlds';

export const SCRUB_PLACEHOLDER = {
  email: '[email]',
  url: '[url]',
  handle: '@user',
  phone: '[phone]',
  card: '[card]',
  iban: '[iban]',
} as const;

export type ScrubKind = keyof typeof SCRUB_PLACEHOLDER;

/** Every kind, in the order that breaks ties between matches starting at the same character. */
export const SCRUB_KINDS: readonly ScrubKind[] = ['email', 'url', 'iban', 'card', 'phone', 'handle'];

export interface ScrubResult {
  text: string;
  /** How many of each kind were replaced (lets telemetry report scrub rates without the values). */
  counts: Record<ScrubKind, number>;
}

/** A zero count for every kind. */
export function emptyScrubCounts(): Record<ScrubKind, number> {
  return { email: 0, url: 0, handle: 0, phone: 0, card: 0, iban: 0 };
}

/**
 * Scrub `text`.
 *
 * @example
 * scrub('mail me: a.b@x.org or +1 (555) 123-4567, @Some_Handle').text
 * // 'mail me: [email] or [phone], @user'
 * scrub('card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00').text
 * // 'card [card], IBAN [iban]'
 */
export function scrub(text: string): ScrubResult {
  const counts = emptyScrubCounts();
  const folded = fold(text);
  const s = folded.text;
  const spans: Span[] = [];
  const link = linkText(s);
  findLinks(link, spans);
  findEmails(link, spans);
  findHandles(s, spans);
  const digits = countAsciiDigits(s);
  if (digits >= 11) findIbans(s, spans);
  if (digits >= 13) findCards(s, spans);
  if (digits >= MIN_PHONE_DIGITS) findPhones(s, spans);
  if (spans.length === 0) return { text, counts };

  spans.sort((a, b) => a.from - b.from || RANK[a.kind] - RANK[b.kind] || b.to - a.to);
  let out = '';
  let at = 0; // in the original text
  let reached = 0; // in the folded text: spans starting before this overlap a chosen one
  for (const span of spans) {
    if (span.from < reached) continue;
    reached = span.to;
    const from = folded.start ? folded.start[span.from]! : span.from;
    const to = folded.end ? folded.end[span.to - 1]! : span.to;
    out += text.slice(at, from) + SCRUB_PLACEHOLDER[span.kind];
    at = to;
    counts[span.kind]++;
  }
  return { text: out + text.slice(at), counts };
}

/** Scrubbed text only. */
export function scrubText(text: string): string {
  return scrub(text).text;
}

interface Span {
  /** Start and end (exclusive) in the folded text. */
  from: number;
  to: number;
  kind: ScrubKind;
}

const RANK = Object.fromEntries(SCRUB_KINDS.map((k, i) => [k, i])) as Record<ScrubKind, number>;

// ---------------------------------------------------------------------------------------------
// Folding

interface Folded {
  text: string;
  /** Original start and end of the code point each folded UTF-16 unit came from (null: identical). */
  start: number[] | null;
  end: number[] | null;
}

const NON_ASCII_RE = /[^\x00-\x7f]/;
const DECIMAL_DIGIT_RE = /^\p{Nd}$/u;
const foldCache = new Map<number, string>();

function fold(text: string): Folded {
  if (!NON_ASCII_RE.test(text)) return { text, start: null, end: null };
  let out = '';
  const start: number[] = [];
  const end: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const folded = cp < 0x80 ? text[i]! : foldCodePoint(cp);
    out += folded;
    for (let k = 0; k < folded.length; k++) {
      start.push(i);
      end.push(i + width);
    }
    i += width;
  }
  return { text: out, start, end };
}

/** NFKC of one code point, with decimal digits of any script as ASCII digits. */
function foldCodePoint(cp: number): string {
  let folded = foldCache.get(cp);
  if (folded !== undefined) return folded;
  folded = String.fromCodePoint(cp).normalize('NFKC');
  const first = folded.codePointAt(0)!;
  if (folded.length <= 2 && first > 0x7f && DECIMAL_DIGIT_RE.test(folded)) {
    // Unicode encodes every script's digits as a run from zero to nine: the value is the distance
    // to the first code point of the run.
    let zero = first;
    while (first - zero < 9 && DECIMAL_DIGIT_RE.test(String.fromCodePoint(zero - 1))) zero--;
    folded = String(first - zero);
  }
  foldCache.set(cp, folded);
  return folded;
}

function countAsciiDigits(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// URLs and emails

const linkify = new LinkifyIt({ fuzzyLink: true, fuzzyEmail: true, fuzzyIP: true }).tlds(TLDS, false);
const HOST_AND_REST_RE = /^([^/?#:]*)(.*)$/s;

/**
 * Chinese, Japanese, Korean and Thai are written without spaces, so an address typed in the middle of
 * them ("電話はjane@example.comまで") touches letters that linkify-it would read as part of an
 * internationalized domain. Where such a letter touches an ASCII letter or digit it becomes a space
 * (same length, so offsets stay valid); domains written wholly in those scripts (例子.中国) still count.
 */
const SCRIPT_SWITCH_RE = /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\p{sc=Thai}](?=[A-Za-z0-9])|(?<=[A-Za-z0-9])[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}\p{sc=Thai}]/gu;

function linkText(s: string): string {
  return NON_ASCII_RE.test(s) ? s.replace(SCRIPT_SWITCH_RE, (m) => ' '.repeat(m.length)) : s;
}

function findLinks(s: string, spans: Span[]): void {
  // linkify-it finds nothing without a dot or a scheme, and that is most short comments.
  if (!s.includes('.') && !s.includes(':')) return;
  for (const m of linkify.match(s) ?? []) {
    if (m.schema === 'mailto:') {
      spans.push({ from: m.index, to: m.lastIndex, kind: 'email' });
      continue;
    }
    if (m.schema === '') {
      const [, host = '', rest = ''] = HOST_AND_REST_RE.exec(m.raw) ?? [];
      const tld = host.slice(host.lastIndexOf('.') + 1);
      if (rest === '' && !host.toLowerCase().startsWith('www.') && tld !== tld.toLowerCase() && host !== host.toUpperCase()) continue;
    }
    spans.push({ from: m.index, to: m.lastIndex, kind: 'url' });
  }
}

/**
 * linkify-it reads only ASCII local parts (RFC 5321) and wants a space or one of a few characters
 * before an address. This finds the rest (müller@beispiel.de, «jane@example.com»): around each '@',
 * at most 64 characters of local part back and 253 of domain forward, the domain ending in a known
 * top-level domain.
 */
const EMAIL_LOCAL_RE = /[\p{L}\p{M}\p{N}._%+-]/u;
const EMAIL_DOMAIN_RE = /[\p{L}\p{M}\p{N}.-]/u;
const TLD_SET = new Set(TLDS);

function findEmails(s: string, spans: Span[]): void {
  for (let at = s.indexOf('@'); at >= 0; at = s.indexOf('@', at + 1)) {
    let from = at;
    while (from > 0 && at - from < 64 && EMAIL_LOCAL_RE.test(s[from - 1]!)) from--;
    while (from < at && s[from] === '.') from++;
    let to = at + 1;
    while (to < s.length && to - at <= 253 && EMAIL_DOMAIN_RE.test(s[to]!)) to++;
    while (to > at + 1 && (s[to - 1] === '.' || s[to - 1] === '-')) to--;
    if (from === at) continue;
    const labels = s.slice(at + 1, to).split('.');
    if (labels.length < 2 || labels.some((l) => l === '')) continue;
    const tld = labels[labels.length - 1]!.toLowerCase();
    if (TLD_SET.has(tld) || tld.startsWith('xn--')) spans.push({ from, to, kind: 'email' });
  }
}

// ---------------------------------------------------------------------------------------------
// @handles

// "@user" is the placeholder, unless more of a handle follows ("@user.name", "@users").
const HANDLE_RE = /(?<![\p{L}\p{N}_])@(?!user(?![\p{L}\p{N}_]|[.-][\p{L}\p{N}_]))[\p{L}\p{N}_.-]*[\p{L}\p{N}_]/gu;

function findHandles(s: string, spans: Span[]): void {
  if (!s.includes('@')) return;
  for (const m of s.matchAll(HANDLE_RE)) spans.push({ from: m.index, to: m.index + m[0].length, kind: 'handle' });
}

// ---------------------------------------------------------------------------------------------
// IBANs

/** Countries of the SWIFT IBAN registry and those using IBAN-format numbers nationally. */
const IBAN_COUNTRIES = new Set(
  (
    'AD AE AL AT AZ BA BE BG BH BI BR BY CH CR CY CZ DE DJ DK DO EE EG ES FI FK FO FR GB GE GI GL GR GT HN ' +
    'HR HU IE IL IQ IS IT JO KW KZ LB LC LI LT LU LV LY MC MD ME MK MN MR MT MU NI NL NO OM PK PL PS PT QA ' +
    'RO RS RU SA SC SD SE SI SK SM SO ST SV TL TN TR UA VA VG XK YE ' +
    'AO BF BJ CF CG CI CM CV DZ GA GQ GW IR KM MA MG ML MZ NE SN TD TG'
  ).split(' '),
);
const IBAN_START_RE = /(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}/g;
const IBAN_WINDOW = 48;
const IBAN_GROUP_RE = /[A-Za-z0-9]+/y;
/** Scripts written without spaces may touch a number; a Latin letter or a digit may not. */
const ALNUM_RE = /[A-Za-z0-9]/;

function findIbans(s: string, spans: Span[]): void {
  let reached = 0;
  for (const m of s.matchAll(IBAN_START_RE)) {
    if (m.index < reached || !IBAN_COUNTRIES.has(m[0].slice(0, 2).toUpperCase())) continue;
    // Groups of letters and digits separated by one space (or none), within a bounded window.
    const ends: number[] = [];
    const lengths: number[] = [];
    let compact = '';
    let i = m.index;
    const limit = Math.min(s.length, m.index + IBAN_WINDOW);
    while (i < limit) {
      IBAN_GROUP_RE.lastIndex = i;
      const g = IBAN_GROUP_RE.exec(s);
      if (!g) break;
      compact += g[0];
      i += g[0].length;
      ends.push(i);
      lengths.push(compact.length);
      if (compact.length > 34 || (s[i] !== ' ' && s[i] !== '\u00a0')) break;
      i++;
    }
    // The longest prefix ending at a group boundary that is a valid IBAN.
    for (let k = ends.length - 1; k >= 0; k--) {
      const end = ends[k]!;
      if (end < s.length && ALNUM_RE.test(s[end]!)) continue;
      if (isIban(compact.slice(0, lengths[k]).toUpperCase())) {
        spans.push({ from: m.index, to: end, kind: 'iban' });
        reached = end;
        break;
      }
    }
  }
}

/** Length 15 to 34, a mostly numeric account part (real ones are), ISO 7064 mod 97-10. */
function isIban(iban: string): boolean {
  if (iban.length < 15 || iban.length > 34 || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(iban)) return false;
  const bban = iban.slice(4);
  if (bban.replace(/\D/g, '').length * 2 < bban.length) return false;
  let rest = 0;
  for (const ch of bban + iban.slice(0, 4)) {
    const c = ch.charCodeAt(0);
    rest = c <= 57 ? (rest * 10 + (c - 48)) % 97 : (rest * 100 + (c - 55)) % 97;
  }
  return rest === 1;
}

// ---------------------------------------------------------------------------------------------
// Payment cards

/** A group of digits that does not continue a letter or digit run. */
const CARD_START_RE = /(?<![A-Za-z0-9])[2-6]\d*/g;
const CARD_GROUP_RE = /\d+/y;

function findCards(s: string, spans: Span[]): void {
  let reached = 0;
  for (const m of s.matchAll(CARD_START_RE)) {
    if (m.index < reached) continue;
    // Up to 19 digits in groups joined by one consistent separator (space, dash) or none.
    const groups: number[] = [];
    const ends: number[] = [];
    let digits = '';
    let sep: string | undefined;
    let i = m.index;
    for (;;) {
      CARD_GROUP_RE.lastIndex = i;
      const g = CARD_GROUP_RE.exec(s);
      if (!g || digits.length + g[0].length > 19) break;
      digits += g[0];
      groups.push(g[0].length);
      i += g[0].length;
      ends.push(i);
      const next = s[i];
      if ((next !== ' ' && next !== '-' && next !== '\u00a0') || (sep !== undefined && next !== sep)) break;
      sep = next;
      i++;
    }
    for (let k = groups.length - 1; k >= 0; k--) {
      const end = ends[k]!;
      if (end < s.length && ALNUM_RE.test(s[end]!)) continue;
      const shape = groups.slice(0, k + 1);
      const n = shape.reduce((a, b) => a + b, 0);
      if (n < 13 || !isCardShape(shape) || !luhn(digits.slice(0, n))) continue;
      spans.push({ from: m.index, to: end, kind: 'card' });
      reached = end;
      break;
    }
  }
}

function isCardShape(groups: readonly number[]): boolean {
  if (groups.length === 1) return true;
  const key = groups.join('-');
  if (key === '4-6-5' || key === '4-6-4') return true;
  return groups.length >= 3 && groups.slice(0, -1).every((g) => g === 4) && groups[groups.length - 1]! <= 4;
}

function luhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// ---------------------------------------------------------------------------------------------
// Phone numbers

const MIN_PHONE_DIGITS = 7;
const PHONE_PASSES: ReadonlyArray<{ defaultCountry: CountryCode; extended: boolean }> = [
  { defaultCountry: 'US', extended: true },
  { defaultCountry: 'DE', extended: false },
];
const PAUSE_RE = /[,;]/g;
const LATIN_OR_DIGIT_RE = /[A-Za-z\u00c0-\u024f\d_]/;
const CURRENCY_RE = /\p{Sc}/u;
const EXTENSION_START_RE = /[\p{L}#]/u;
const GROUP_RE = /\d+/g;
const TIME_RE = /(?<!\d)\d{1,2}(?::[0-5]\d){1,2}(?!\d)/g;
/** The "(0)" of "+44 (0)20 7946 0958": the trunk prefix, dialled only from inside the country. */
const TRUNK_RE = /\(0\)/;
/** Digit groups joined by phone punctuation; linear (one backtrack to the last digit). */
const RUN_RE = /[+(]*\d[\d \u00a0()\-./]*\d\)?/g;
const SPACE_RE = /[ \u00a0]/;
const DATE_RES = [/^\d{4} ?[-./] ?\d{1,2} ?[-./] ?\d{1,2}$/, /^\d{1,2} ?[-./] ?\d{1,2} ?[-./] ?\d{2,4}$/, /^(?:1[5-9]|20)\d\d ?[-\u2010-\u2015/] ?(?:(?:1[5-9]|20)\d\d|\d\d)$/];
const THOUSANDS_RE = /^\d{1,3}(?:([., '\u2019\u00a0\u202f])\d{3})+$/;
const YEAR_RE = /^(?:19|20)\d\d$/;

function findPhones(s: string, spans: Span[]): void {
  // Same length, so offsets stay valid: a comma or semicolon never belongs to a number, nor does a
  // time stamp ("12:30 5551234567" would otherwise start at "30").
  const text = s.replace(PAUSE_RE, '\n').replace(TIME_RE, (m) => '\n'.repeat(m.length));
  const found: Span[] = [];
  for (const pass of PHONE_PASSES) {
    for (const m of quietly(() => findPhoneNumbersInText(text, pass))) {
      // An opening parenthesis with no closing one in the span encloses the number: it stays.
      const from = text[m.startsAt] === '(' && !text.slice(m.startsAt, m.endsAt).includes(')') ? m.startsAt + 1 : m.startsAt;
      if (m.number.nationalNumber.length >= MIN_PHONE_DIGITS && isPhoneSpan(text, from, m.endsAt)) {
        found.push({ from, to: m.endsAt, kind: 'phone' });
      }
    }
  }
  // Links, emails, cards and IBANs found earlier keep their digits.
  const taken = new Intervals(spans);
  const phones = found.filter((p) => !taken.overlaps(p.from, p.to));
  const blocked = new Intervals([...spans, ...phones]);
  for (const run of text.matchAll(RUN_RE)) splitRun(text, run.index, run.index + run[0].length, blocked, phones);
  for (const span of phones) spans.push(span);
}

/** Sorted, merged intervals with a logarithmic overlap test (a linear scan per test would be quadratic). */
class Intervals {
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  constructor(spans: readonly Span[]) {
    for (const sp of [...spans].sort((a, b) => a.from - b.from)) {
      const last = this.ends.length - 1;
      if (last >= 0 && sp.from <= this.ends[last]!) this.ends[last] = Math.max(this.ends[last]!, sp.to);
      else {
        this.starts.push(sp.from);
        this.ends.push(sp.to);
      }
    }
  }

  overlaps(from: number, to: number): boolean {
    // The last interval starting before `to` is the only one that can reach past `from`.
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! < to) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && this.ends[lo - 1]! > from;
  }
}

/**
 * libphonenumber gives up on a run of digit groups that holds more than one number when nothing but
 * spaces separates them ("555 123 4567 555 987 6543"), and on an international number with a
 * bracketed trunk prefix whose country counts digits strictly ("+33 (0)1 23 45 67 89"). This splits
 * the parts of such a run that no pass covered, left to right, at spaces: the longest candidate of 7
 * to 15 digits that passes {@link isPhoneSpan} and that libphonenumber reads as one whole number.
 * Each start tries at most 15 groups, so the work stays linear.
 */
function splitRun(text: string, runFrom: number, runTo: number, blocked: Intervals, out: Span[]): void {
  const groups: Array<{ from: number; to: number; digits: number }> = [];
  GROUP_RE.lastIndex = 0;
  const run = text.slice(runFrom, runTo);
  for (const g of run.matchAll(GROUP_RE)) groups.push({ from: runFrom + g.index, to: runFrom + g.index + g[0].length, digits: g[0].length });
  if (groups.reduce((n, g) => n + g.digits, 0) < MIN_PHONE_DIGITS) return;
  const covered = (from: number, to: number): boolean => blocked.overlaps(from, to);
  // singles[k]: one-digit groups before group k, so isPhoneSpan's first test costs nothing here.
  const singles = [0];
  for (const g of groups) singles.push(singles[singles.length - 1]! + (g.digits === 1 ? 1 : 0));
  let i = 0;
  while (i < groups.length) {
    // A candidate starts at the run's start or after a space, with its '+', '(' or "(+" if any.
    let from = groups[i]!.from;
    while (from > runFrom && (text[from - 1] === '+' || text[from - 1] === '(')) from--;
    if ((from > runFrom && !SPACE_RE.test(text[from - 1]!)) || covered(from, groups[i]!.to)) {
      i++;
      continue;
    }
    let accepted = -1;
    let digits = 0;
    let j = i;
    for (; j < groups.length && digits + groups[j]!.digits <= 15; j++) digits += groups[j]!.digits;
    for (j--; j >= i; j--, digits -= groups[j + 1]?.digits ?? 0) {
      let to = groups[j]!.to;
      if (text[to] === ')') to++;
      if (digits < MIN_PHONE_DIGITS) break;
      if ((to < runTo && !SPACE_RE.test(text[to]!)) || singles[j + 1]! - singles[i + 1]! >= 2 || covered(from, to)) continue;
      if (isPhoneSpan(text, from, to) && isOneNumber(text.slice(from, to))) {
        out.push({ from, to, kind: 'phone' });
        accepted = j;
        break;
      }
    }
    i = accepted >= 0 ? accepted + 1 : i + 1;
  }
}

function isOneNumber(candidate: string): boolean {
  const c = candidate.replace(TRUNK_RE, '');
  return PHONE_PASSES.some((pass) => quietly(() => findPhoneNumbersInText(c, pass)).some((m) => m.startsAt === 0 && m.endsAt === c.length && m.number.nationalNumber.length >= MIN_PHONE_DIGITS));
}

/**
 * libphonenumber throws (and catches) a ParseError for every candidate that is not a number, and
 * capturing the stack trace of each was most of the time spent on digit-heavy text. No stack trace
 * leaves this call, so none is captured (V8: Node, Chromium and workerd alike).
 */
function quietly<T>(f: () => T): T {
  // A V8 extension, so not in every lib's ErrorConstructor type.
  const errors = Error as { stackTraceLimit?: number };
  const limit = errors.stackTraceLimit;
  errors.stackTraceLimit = 0;
  try {
    return f();
  } finally {
    errors.stackTraceLimit = limit;
  }
}

/** False for spans libphonenumber accepts that are something else (see the module comment). */
function isPhoneSpan(s: string, from: number, to: number): boolean {
  const before = s[from - 1];
  const after = s[to];
  if (before !== undefined && (LATIN_OR_DIGIT_RE.test(before) || ((before === '.' || before === ',') && /\d/.test(s[from - 2] ?? '')))) return false;
  if (after !== undefined && (LATIN_OR_DIGIT_RE.test(after) || after === '%')) return false;
  if (CURRENCY_RE.test(nonSpace(s, from - 1, -1)) || CURRENCY_RE.test(nonSpace(s, to, 1))) return false;

  const raw = s.slice(from, to);
  const cut = raw.search(EXTENSION_START_RE);
  const core = (cut < 0 ? raw : raw.slice(0, cut)).replace(TRUNK_RE, ' ').trim();
  const groups = core.match(GROUP_RE) ?? [];
  const international = /^\(?\+/.test(core) || core.startsWith('00');
  if (groups.slice(1).filter((g) => g.length === 1).length >= 2) return false;
  if (international) return true;

  const first = groups[0] ?? '';
  if (groups.length === 1) {
    // A plain digit run: a North American number (area codes start at 2) or a national number with
    // its trunk 0. "1234567890 views" is neither.
    return /^(?:1?[2-9]\d{9}|0\d{8,11})$/.test(first);
  }
  if (DATE_RES.some((re) => re.test(core))) return false;
  const thousands = THOUSANDS_RE.exec(core);
  if (thousands && (thousands[1] !== ' ' || first.length < 3 || groups.join('').length <= 8)) return false;
  if (core.includes('.') && (groups.length < 3 || groups.slice(1).some((g) => g.length < 2 || g.length > 4))) return false;
  if (groups.every((g) => YEAR_RE.test(g))) return false;
  if (groups.length >= 4 && !first.startsWith('0') && groups.every((g) => g.length <= 2)) return false;
  return true;
}

/** The first character that is not a space, walking from `i` in `step` direction ('' if none). */
function nonSpace(s: string, i: number, step: 1 | -1): string {
  while (i >= 0 && i < s.length && (s[i] === ' ' || s[i] === '\u00a0')) i += step;
  return s[i] ?? '';
}
