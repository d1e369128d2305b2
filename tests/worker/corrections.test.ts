/**
 * Corrections exported for a range of hours, in workerd: only the votes cast in those hours count,
 * each text says when it was first and last corrected, and the same range exports the same lines
 * every time (what makes a collected feedback snapshot reproducible, training/collect.ts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { textHash } from '../../worker/telemetry/votes.js';
import { call, makeBundle, publish, reader, testEnv } from './helpers.js';

type Err = { error: { code: string; message: string } };

describe('corrections of a range of hours', () => {
  const V = '22.0.0';
  /** A vote as votes.ts stores it, cast in `hour`: the Worker's clock cannot be set, its storage can. */
  async function storedVote(text: string, corrected: string, voter: string, hour: string): Promise<void> {
    await testEnv.TELEMETRY.put(`votes/${await textHash(text)}/${voter}.json`, JSON.stringify({ text }), {
      customMetadata: { corrected, predicted: 'neutral', model_version: V, net: voter.slice(0, 16), hour },
    });
  }

  beforeAll(async () => {
    expect((await publish(await makeBundle(V))).status).toBe(201);
    // "old news": agreed in hour 10 already; "late agreement": two votes at 10, the third at 12;
    // "split": agreed at 11, then two dissenters at 12.
    for (const [i, h] of ['2026-03-01T10', '2026-03-01T10', '2026-03-01T10'].entries()) await storedVote('old news', 'negative', `aaaa${i}`.padEnd(64, '0'), h);
    for (const [i, h] of ['2026-03-01T10', '2026-03-01T10', '2026-03-01T12'].entries()) await storedVote('late agreement', 'positive', `bbbb${i}`.padEnd(64, '0'), h);
    for (const [i, h] of ['2026-03-01T11', '2026-03-01T11', '2026-03-01T11'].entries()) await storedVote('split', 'neutral', `cccc${i}`.padEnd(64, '0'), h);
    for (const [i, h] of ['2026-03-01T12', '2026-03-01T12'].entries()) await storedVote('split', 'positive', `dddd${i}`.padEnd(64, '0'), h);
  });

  async function exported(query: string): Promise<{ headers: Headers; lines: Array<Record<string, unknown>> }> {
    const res = await call(`/v1/admin/export?kind=corrections&min_clients=3${query}`, { headers: reader() });
    expect(res.status).toBe(200);
    return {
      headers: res.headers,
      lines: (await res.text())
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  }

  it('counts only the votes of the range, and says when each text was first and last corrected', async () => {
    const early = await exported('&from=2026-03-01T10&to=2026-03-01T12');
    expect(early.headers.get('X-Corrections-From')).toBe('2026-03-01T10');
    expect(early.headers.get('X-Corrections-To')).toBe('2026-03-01T12');
    expect(early.lines.map((l) => [l.text, l.label, l.support, l.first_hour, l.last_hour]).sort()).toEqual([
      ['old news', 'negative', 3, '2026-03-01T10', '2026-03-01T10'],
      ['split', 'neutral', 3, '2026-03-01T11', '2026-03-01T11'],
    ]);
    expect(early.headers.get('X-Corrections-Texts')).toBe('3');
    expect(early.headers.get('X-Corrections-Below-Threshold')).toBe('1');

    const all = await exported('&from=2026-03-01T10&to=2026-03-01T13');
    expect(all.lines.map((l) => [l.text, l.label, l.conflicting, l.first_hour, l.last_hour]).sort()).toEqual([
      ['late agreement', 'positive', 0, '2026-03-01T10', '2026-03-01T12'],
      ['old news', 'negative', 0, '2026-03-01T10', '2026-03-01T10'],
      ['split', 'neutral', 2, '2026-03-01T11', '2026-03-01T11'],
    ]);
    // Nothing in the range: nothing agreed, nothing counted.
    const none = await exported('&from=2026-03-02T00&to=2026-03-02T05');
    expect(none.lines).toEqual([]);
    expect(none.headers.get('X-Corrections-Texts')).toBe('0');
  });

  it('exports the same lines for the same range every time', async () => {
    const a = await call('/v1/admin/export?kind=corrections&from=2026-03-01T10&to=2026-03-01T12', { headers: reader() });
    const b = await call('/v1/admin/export?kind=corrections&from=2026-03-01T10&to=2026-03-01T12', { headers: reader() });
    expect(await a.text()).toBe(await b.text());
  });

  it('refuses a range that is not hours, or runs backwards', async () => {
    for (const q of ['from=2026-03-01', 'to=2026-03-01T25', 'from=2026-03-01T12&to=2026-03-01T10']) {
      const res = await call(`/v1/admin/export?kind=corrections&${q}`, { headers: reader() });
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as Err).error.code).toBe('invalid_query');
    }
  });
});
