import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCRUB_KINDS, emptyScrubCounts, scrub, scrubText, type ScrubKind } from '../../core/scrub.js';

/**
 * tests/fixtures/scrub-corpus.json: strings that must be scrubbed (with the exact expected output and
 * how many of each kind), and strings that must come out unchanged (dates, scores, prices, time
 * stamps, versions, years, view counts, chapter lists...), in many languages and scripts.
 */
interface Corpus {
  scrubbed: Array<{ text: string; expected: string; counts: Partial<Record<ScrubKind, number>> }>;
  unchanged: string[];
}
const corpus = JSON.parse(readFileSync(new URL('../fixtures/scrub-corpus.json', import.meta.url), 'utf8')) as Corpus;
const counts = (partial: Partial<Record<ScrubKind, number>>): Record<ScrubKind, number> => ({ ...emptyScrubCounts(), ...partial });

describe('scrub', () => {
  it('replaces emails, URLs, handles and phone numbers and counts them', () => {
    const r = scrub('mail me: a.b+c@x.org or +1 (555) 123-4567, @Some_Handle, see https://example.com/p?q=1 and youtu.be/abc');
    expect(r.text).toBe('mail me: [email] or [phone], @user, see [url] and [url]');
    expect(r.counts).toEqual(counts({ email: 1, url: 2, handle: 1, phone: 1 }));
  });

  it('replaces Luhn-valid card numbers and mod-97-valid IBANs, and only those', () => {
    const r = scrub('card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00');
    expect(r.text).toBe('card [card], IBAN [iban]');
    expect(r.counts).toEqual(counts({ card: 1, iban: 1 }));
    // One digit off: neither check passes, and nothing is called a card or an IBAN (the digit groups
    // may still look like phone numbers).
    const off = scrub('card 4111 1111 1111 1112, IBAN DE88 3704 0044 0532 0130 00');
    expect(off.counts.card + off.counts.iban).toBe(0);
  });

  it.each([
    ['555-123-4567', '[phone]'],
    ['07700 900123', '[phone]'],
    ['+44 20 7946 0958', '[phone]'],
    ['call 5551234567 now', 'call [phone] now'],
    ['www.example.org/path', '[url]'],
    ['@handle.with-dots_1 hi', '@user hi'],
    // Findings of issue 9.
    ['555 - 123 - 4567', '[phone]'],
    ['555/123/4567', '[phone]'],
    ['555-123-4567 555-987-6543', '[phone] [phone]'],
    ['555 123 4567 555 987 6543', '[phone] [phone]'],
    ['４１１１ １１１１ １１１１ １１１１', '[card]'],
    ['see example.ru/x and mysite.xyz', 'see [url] and [url]'],
  ])('scrubs %j', (input, expected) => {
    expect(scrubText(input)).toBe(expected);
  });

  it.each([
    'at 2:35 and 1:02:03 he says',
    'in 2024 I paid 1,000,000 dollars',
    'top 10 of 100',
    'version 1.2.3 is out',
    'I rate it 10/10',
    'hello @user',
    // Findings of issue 9: dates and big numbers were taken for phone numbers.
    'on 2024-01-15',
    '123456789 views',
    '1 000 000 vues',
  ])('leaves %j alone', (input) => {
    expect(scrubText(input)).toBe(input);
  });

  it('matches full-width and other-script digits but keeps the rest of the text as written', () => {
    expect(scrubText('ｈｉ！ ５５５－１２３－４５６７ ｔｈａｎｋｓ')).toBe('ｈｉ！ [phone] ｔｈａｎｋｓ');
    expect(scrubText('رقمي ٠٥٠١٢٣٤٥٦٧ 😀')).toBe('رقمي [phone] 😀');
    expect(scrubText('😀 call 555-123-4567 😀')).toBe('😀 call [phone] 😀');
  });

  it('is idempotent', () => {
    const once = scrubText('x@y.com 555-123-4567 @bob https://a.b/c 4111111111111111 GB82WEST12345698765432');
    expect(scrubText(once)).toBe(once);
    expect(scrub(once).counts).toEqual(emptyScrubCounts());
  });

  it('counts every kind it can replace', () => {
    expect(Object.keys(emptyScrubCounts()).sort()).toEqual([...SCRUB_KINDS].sort());
  });
});

describe('scrub corpus (tests/fixtures/scrub-corpus.json)', () => {
  it('has at least 200 strings to scrub, 100 to keep, and every kind', () => {
    expect(corpus.scrubbed.length).toBeGreaterThanOrEqual(200);
    expect(corpus.unchanged.length).toBeGreaterThanOrEqual(100);
    for (const kind of SCRUB_KINDS) expect(corpus.scrubbed.filter((e) => e.counts[kind]).length, kind).toBeGreaterThanOrEqual(10);
  });

  it.each(corpus.scrubbed.map((e) => [e.text, e] as const))('scrubs %j', (_, e) => {
    const r = scrub(e.text);
    expect(r.text).toBe(e.expected);
    expect(r.counts).toEqual(counts(e.counts));
    // Scrubbing what was scrubbed changes and counts nothing (the backend scrubs again).
    expect(scrub(r.text)).toEqual({ text: r.text, counts: emptyScrubCounts() });
  });

  it.each(corpus.unchanged)('leaves %j unchanged', (text) => {
    expect(scrub(text)).toEqual({ text, counts: emptyScrubCounts() });
  });
});
