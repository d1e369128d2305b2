/**
 * The server scrubs every text again (worker/telemetry/ingest.ts). This runs the scrubber's corpus
 * (tests/fixtures/scrub-corpus.json, also run in Node by tests/unit/scrub.test.ts) inside workerd,
 * so the bundled libphonenumber-js, linkify-it and TLD list behave there exactly as in the extension.
 */
import { describe, expect, it } from 'vitest';
import { emptyScrubCounts, scrub, type ScrubKind } from '../../core/scrub.js';
import corpus from '../fixtures/scrub-corpus.json';

const { scrubbed, unchanged } = corpus as {
  scrubbed: Array<{ text: string; expected: string; counts: Partial<Record<ScrubKind, number>> }>;
  unchanged: string[];
};

describe('scrubber in workerd', () => {
  it(`scrubs the ${scrubbed.length} corpus strings to their expected output and counts`, () => {
    const wrong = scrubbed.map((e) => ({ e, r: scrub(e.text) })).filter(({ e, r }) => r.text !== e.expected || JSON.stringify(r.counts) !== JSON.stringify({ ...emptyScrubCounts(), ...e.counts }));
    expect(wrong.map(({ e, r }) => ({ text: e.text, got: r.text, counts: r.counts }))).toEqual([]);
  });

  it(`leaves the ${unchanged.length} corpus strings that must survive unchanged`, () => {
    expect(unchanged.filter((t) => scrub(t).text !== t)).toEqual([]);
  });
});
