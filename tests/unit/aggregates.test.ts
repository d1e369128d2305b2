/**
 * core/aggregates.ts: what one comment adds to an on-device aggregate, and when an aggregate may
 * leave; every aggregate it builds passes the wire schema once it holds enough comments.
 */
import { describe, expect, it } from 'vitest';
import { addToAggregate, aggregateState, emptyAggregate } from '../../core/aggregates.js';
import { AGGREGATE, AggregateItemSchema, HOUR_MS } from '../../core/wire.js';

const H = Date.UTC(2026, 4, 1, 9);
const c = (over: Partial<Parameters<typeof addToAggregate>[1]> = {}) => ({ label: 'neutral' as const, confidence: 0.55, lang: 'en', tokens: [3, 3, 7], ...over });

describe('on-device aggregates', () => {
  it('counts a comment in every vector, once per distinct bucket, at the hour of the comment', () => {
    const a = emptyAggregate(H + 1234);
    expect(a).toMatchObject({ hour_from: H, hour_to: H + HOUR_MS, n: 0 });
    addToAggregate(a, c(), H + 59 * 60_000);
    addToAggregate(a, c({ label: 'positive', confidence: 1, tokens: [] }), H + 2 * HOUR_MS + 1);
    expect(a).toMatchObject({ hour_from: H, hour_to: H + 3 * HOUR_MS, n: 2, label_counts: [0, 1, 1], token_n: 1, languages: { en: 2 } });
    expect(a.confidence_counts[5]).toBe(1);
    // A confidence of exactly 1 falls in the last bin (right-closed).
    expect(a.confidence_counts[9]).toBe(1);
    expect(a.token_counts[3]).toBe(1);
    expect(a.token_counts[7]).toBe(1);
  });

  it('never lets one comment break the vectors: bad confidence or label counts nowhere; bad language is "und"', () => {
    const a = emptyAggregate(H);
    expect(addToAggregate(a, c({ confidence: Number.NaN }), H)).toBe(false);
    expect(addToAggregate(a, c({ label: 'happy' as never }), H)).toBe(false);
    expect(addToAggregate(a, c({ lang: 'English', tokens: [-1, 256, 1.5, 4] }), H)).toBe(true);
    expect(a).toMatchObject({ n: 1, languages: { und: 1 }, token_n: 1 });
    expect(a.token_counts[4]).toBe(1);
  });

  it('keeps at most max_languages codes, the rest as "other", and stops at max_comments', () => {
    const a = emptyAggregate(H);
    const codes = Array.from({ length: 40 }, (_, i) => `${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}`);
    for (const lang of codes) addToAggregate(a, c({ lang }), H);
    expect(Object.keys(a.languages)).toHaveLength(AGGREGATE.max_languages);
    expect(a.languages.other).toBe(40 - (AGGREGATE.max_languages - 1));
    expect(AggregateItemSchema.parse(a)).toEqual(a);
    a.n = AGGREGATE.max_comments;
    expect(addToAggregate(a, c(), H)).toBe(false);
  });

  it('is counting during its hours, then ready with ≥ 10 comments, else waiting, and expired after 24 hours', () => {
    const a = emptyAggregate(H);
    for (let i = 0; i < AGGREGATE.min_comments - 1; i++) addToAggregate(a, c(), H);
    expect(aggregateState(a, H + HOUR_MS - 1)).toBe('counting');
    expect(aggregateState(a, H + HOUR_MS)).toBe('waiting');
    expect(aggregateState(a, H + 24 * HOUR_MS - 1)).toBe('waiting');
    expect(aggregateState(a, H + 24 * HOUR_MS)).toBe('expired');
    expect(AggregateItemSchema.safeParse(a).success).toBe(false);
    addToAggregate(a, c(), H);
    expect(aggregateState(a, H + HOUR_MS)).toBe('ready');
    expect(AggregateItemSchema.safeParse(a).success).toBe(true);
  });
});
