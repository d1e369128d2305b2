/**
 * Opt-in telemetry against a real `wrangler dev` backend: nothing leaves with both consents off;
 * under "stats" only hourly aggregates leave, never a row per comment, and an hour with fewer than
 * 10 comments is not sent even once it has ended; under "text" scrubbed rows with hour-granular
 * time arrive in R2; while the backend is down they queue and arrive exactly once after it returns;
 * turning the text consent off deletes queued texts while the statistics stay; opting out deletes
 * everything; corrections need the text consent.
 *
 * The service worker's clock is set by the test (Date.now in its global scope, through the
 * DevTools connection Playwright holds): comments are scored in a past hour F, two hours before the
 * real one, so that hour can "end" without waiting, and the backend, on the real clock, accepts
 * its aggregate as an hour that is over.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HOUR_MS } from '../../core/wire.js';
import { clickByAccessibleName, openVideo, type ExtensionBrowser } from './browser.js';
import { startBackendAndBrowser, type Backend } from './backend.js';
import { BUNDLED_VERSION } from './models.js';

let backend: Backend;
let b: ExtensionBrowser;
let page: Page;

interface Flush {
  sent_batches: number;
  sent_items: number;
  withdrawn_items: number;
  aggregates: { queued: number; expired: number };
  remaining: number;
  skipped?: string;
  error?: string;
}
interface Telemetry {
  consent: string | null;
  queued: number;
  queued_by_kind: Record<string, number>;
  counting: Array<{ model_version: string; n: number; hour_from: number; hour_to: number }>;
}
const flush = () => b.background<Flush>('flush-telemetry', { force: true });
const telemetry = async () => (await b.background<{ telemetry: Telemetry }>('get-status')).telemetry;
const queued = async () => (await telemetry()).queued;
const badgeCount = (p: Page) => p.evaluate(() => document.querySelectorAll('[data-ytsent-badge]').length);
const waitForBadges = (p: Page, n: number) => p.waitForFunction((count) => document.querySelectorAll('[data-ytsent-badge]').length >= count, n, { timeout: 60_000 });
const navigate = (id: string) => page.evaluate((v) => (window as unknown as { __ytFixture: { navigate(id: string): Promise<void> } }).__ytFixture.navigate(v), id);

/** Start of the fake hour the comments are scored in: two hours before the real one. */
let F = 0;
/** Runs the service worker's clock `offsetMs` from the real one (0: the real clock). */
async function shiftClock(offsetMs: number): Promise<void> {
  await b.serviceWorker.evaluate((offset) => {
    const g = globalThis as unknown as { __realNow?: () => number };
    g.__realNow ??= Date.now.bind(Date);
    const real = g.__realNow;
    Date.now = () => real() + offset;
  }, offsetMs);
}
/** The fake clock: F at the start of the run, going on at the real pace (the run is far shorter than an hour). */
let fakeOffset = 0;

let env: Awaited<ReturnType<typeof startBackendAndBrowser>>;
beforeAll(async () => {
  env = await startBackendAndBrowser();
  ({ backend, browser: b } = env);
  const now = Date.now();
  F = Math.floor(now / HOUR_MS) * HOUR_MS - 2 * HOUR_MS;
  fakeOffset = F - now;
});
afterAll(async () => {
  await env?.close();
});

describe('telemetry', () => {
  it('sends nothing while both consents are off', async () => {
    page = await openVideo(b.context, 'aaaaaaaaaaa');
    await waitForBadges(page, 20);
    // Only the first page of comments is loaded (the later tests rely on the rest being new).
    expect(await badgeCount(page)).toBe(20);
    expect(await telemetry()).toMatchObject({ queued: 0, counting: [] });
    expect((await flush()).skipped).toBe('telemetry is off');
    expect(await backend.exported('samples', BUNDLED_VERSION)).toEqual([]);
  });

  it('under "stats" counts comments on the device and sends nothing for an hour with fewer than 10, even once it has ended', async () => {
    await shiftClock(fakeOffset);
    await b.background('update-settings', { consent_stats: true });
    await navigate('bbbbbbbbbbb');
    await page.waitForFunction(() => document.querySelectorAll('[data-ytsent-badge]').length === 5);
    // No row per comment: the five are counted into the hour's aggregate, which stays on the device.
    expect(await telemetry()).toMatchObject({ consent: 'stats', queued: 0, counting: [{ n: 5, hour_from: F, hour_to: F + HOUR_MS }] });
    expect(await flush()).toMatchObject({ sent_batches: 0, remaining: 0 });
    // On the real clock the hour F is over; five comments are too few: it waits, unsent.
    await shiftClock(0);
    expect(await flush()).toMatchObject({ sent_batches: 0, aggregates: { queued: 0, expired: 0 }, remaining: 0 });
    expect((await telemetry()).counting).toEqual([expect.objectContaining({ n: 5 })]);
    expect(await backend.exported('aggregates', BUNDLED_VERSION)).toEqual([]);
    expect(await backend.exported('samples', BUNDLED_VERSION)).toEqual([]);
    await shiftClock(fakeOffset);
  });

  it('sends scrubbed text samples with hour-granular time under the text consent', async () => {
    await b.background('update-settings', { consent_text: true });
    await navigate('aaaaaaaaaaa');
    await waitForBadges(page, 20);
    // Only comments not scored before are new samples: load the rest of the page (incl. the PII one).
    await page.evaluate(() => document.querySelector('#continuations')!.scrollIntoView());
    await waitForBadges(page, 32);
    expect(await telemetry()).toMatchObject({ queued: 12, queued_by_kind: { samples: 12 }, counting: [{ n: 17 }] });
    expect(await flush()).toMatchObject({ sent_items: 12, remaining: 0 });
    const text = await backend.exported('samples', BUNDLED_VERSION);
    expect(text).toHaveLength(12);
    for (const s of text) expect(s).toMatchObject({ consent: 'text', ts: F });
    const pii = text.find((s) => String(s.text).startsWith('Great video! Email me'));
    expect(pii?.text).toBe('Great video! Email me at [email] or call [phone], more at [url] and ask @user');
    expect(pii?.video_id).toBe('aaaaaaaaaaa');
    expect(JSON.stringify(text)).not.toMatch(/jane\.doe|555-123-4567|spam\.example|SomeoneElse/);
    // The statistics of this hour are still being counted: nothing of them has left.
    expect(await backend.exported('aggregates', BUNDLED_VERSION)).toEqual([]);
  });

  it('queues while the backend is down and delivers exactly once when it returns', async () => {
    await backend.stop();
    await page.evaluate(() => (window as unknown as { __ytFixture: { expandReplies(i: number): void } }).__ytFixture.expandReplies(0));
    await waitForBadges(page, 34);
    expect(await queued()).toBe(2);
    const down = await flush();
    expect(down.error).toMatch(/backend unreachable/);
    expect(down.remaining).toBe(2);
    await backend.restart();
    const up = await flush();
    expect(up).toMatchObject({ sent_batches: 1, sent_items: 2, remaining: 0 });
    expect(await flush()).toMatchObject({ sent_batches: 0, sent_items: 0 });
    const all = await backend.exported('samples', BUNDLED_VERSION);
    expect(all).toHaveLength(12 + 2);
    const replies = all.filter((s) => ['Totally agree, this is wonderful!', 'No, this is awful and misleading.'].includes(String(s.text)));
    expect(replies).toHaveLength(2);
  });

  it('sends a label correction under the text consent', async () => {
    const before = await badgeCount(page);
    expect(before).toBeGreaterThan(0);
    await clickByAccessibleName(
      page,
      'button',
      'Sentiment: neutral, ' +
        (await page.evaluate(() => {
          const host = Array.from(document.querySelectorAll<HTMLElement>('[data-ytsent-badge]')).find((h) => h.closest('ytd-comment-view-model')!.textContent!.includes('What camera do you use'))!;
          return `${Math.round(Number(host.dataset.ytsentScore) * 100)}% confidence. Activate to correct.`;
        })),
    );
    await clickByAccessibleName(page, 'menuitem', '▲ Positive');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-ytsent-corrected-from]')?.dataset.ytsentLabel === 'positive');
    expect(await flush()).toMatchObject({ sent_items: 1 });
    const feedback = await backend.exported('feedback', BUNDLED_VERSION);
    expect(feedback).toHaveLength(1);
    expect(feedback[0]).toMatchObject({ text: 'What camera do you use for these shots?', predicted: 'neutral', corrected: 'positive', video_id: 'aaaaaaaaaaa', ts: F });
  });

  it('turning the text consent off (statistics on) deletes the queued texts; the statistics stay', async () => {
    await backend.stop();
    await page.evaluate(() => (window as unknown as { __ytFixture: { expandReplies(i: number): void } }).__ytFixture.expandReplies(1));
    await waitForBadges(page, 35);
    expect(await telemetry()).toMatchObject({ queued: 1, queued_by_kind: { samples: 1 }, counting: [{ n: 20 }] });
    expect(await b.background('update-settings', { consent_text: false })).toMatchObject({ consent_stats: true, consent_text: false });
    expect(await telemetry()).toMatchObject({ consent: 'stats', queued: 0, counting: [{ n: 20 }] });
    await backend.restart();
  });

  it('under "stats" sends the ended hour as one aggregate of its comments, and no row per comment', async () => {
    await shiftClock(0);
    expect(await flush()).toMatchObject({ sent_batches: 1, sent_items: 1, aggregates: { queued: 1, expired: 0 }, remaining: 0 });
    const [aggregate, ...more] = await backend.exported('aggregates', BUNDLED_VERSION);
    expect(more).toEqual([]);
    expect(aggregate).toMatchObject({ consent: 'stats', n: 20, hour_from: F, hour_to: F + HOUR_MS });
    expect((aggregate!.label_counts as number[]).reduce((a, c) => a + c, 0)).toBe(20);
    expect((aggregate!.confidence_counts as number[]).reduce((a, c) => a + c, 0)).toBe(20);
    expect(Object.keys(aggregate!).sort()).toEqual([
      'batch_id',
      'confidence_counts',
      'consent',
      'extension_version',
      'hour_from',
      'hour_to',
      'label_counts',
      'languages',
      'model_version',
      'n',
      'token_counts',
      'token_n',
    ]);
    // The reply queued under the text consent never arrived; nothing arrived per comment under "stats".
    const samples = await backend.exported('samples', BUNDLED_VERSION);
    expect(samples).toHaveLength(14);
    expect(samples.every((s) => s.consent === 'text')).toBe(true);
    expect((await telemetry()).counting).toEqual([]);
  });

  it('deletes everything, including what is still being counted, when the user opts out', async () => {
    const fresh = await openVideo(b.context, 'ddddddddddd', '&n=12&s=opt-out');
    await waitForBadges(fresh, 12);
    const counting = await telemetry();
    expect(counting.queued).toBe(0);
    expect(counting.counting).toHaveLength(1);
    expect(counting.counting[0]!.n).toBeGreaterThan(0);
    await b.background('update-settings', { consent_stats: false, consent_text: false });
    expect(await telemetry()).toMatchObject({ consent: null, queued: 0, counting: [] });
    expect((await flush()).skipped).toBe('telemetry is off');
    expect(await backend.exported('aggregates', BUNDLED_VERSION)).toHaveLength(1);
    await fresh.close();
  });
});
