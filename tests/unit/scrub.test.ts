import { describe, expect, it } from 'vitest';
import { scrub, scrubText } from '../../core/scrub.js';

describe('scrub', () => {
  it('replaces emails, URLs, handles and phone numbers and counts them', () => {
    const r = scrub('mail me: a.b+c@x.org or +1 (555) 123-4567, @Some_Handle, see https://example.com/p?q=1 and youtu.be/abc');
    expect(r.text).toBe('mail me: [email] or [phone], @user, see [url] and [url]');
    expect(r.counts).toEqual({ email: 1, url: 2, handle: 1, phone: 1 });
  });

  it.each([
    ['555-123-4567', '[phone]'],
    ['07700 900123', '[phone]'],
    ['+44 20 7946 0958', '[phone]'],
    ['call 5551234567 now', 'call [phone] now'],
    ['www.example.org/path', '[url]'],
    ['@handle.with-dots_1 hi', '@user hi'],
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
  ])('leaves %j alone', (input) => {
    expect(scrubText(input)).toBe(input);
  });

  it('is idempotent', () => {
    const once = scrubText('x@y.com 555-123-4567 @bob https://a.b/c');
    expect(scrubText(once)).toBe(once);
  });
});
