/**
 * Opt-in telemetry against a real `wrangler dev` backend: nothing leaves with both consents off;
 * with consent, scrubbed samples arrive in R2; while the backend is down they queue and arrive
 * exactly once after it returns; opting out purges the queue; corrections need the text consent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { clickByAccessibleName, openVideo, type ExtensionBrowser } from './browser.js';
import { startBackendAndBrowser, type Backend } from './backend.js';
import { BUNDLED_VERSION } from './models.js';

let backend: Backend;
let b: ExtensionBrowser;
let page: Page;

interface Flush {
  sent_batches: number;
  sent_items: number;
  remaining: number;
  skipped?: string;
  error?: string;
}
const flush = () => b.background<Flush>('flush-telemetry', { force: true });
const queued = async () => (await b.background<{ telemetry: { queued: number } }>('get-status')).telemetry.queued;
const badgeCount = (p: Page) => p.evaluate(() => document.querySelectorAll('[data-ytsent-badge]').length);
const waitForBadges = (p: Page, n: number) => p.waitForFunction((count) => document.querySelectorAll('[data-ytsent-badge]').length >= count, n, { timeout: 60_000 });

let env: Awaited<ReturnType<typeof startBackendAndBrowser>>;
beforeAll(async () => {
  env = await startBackendAndBrowser();
  ({ backend, browser: b } = env);
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
    expect(await queued()).toBe(0);
    expect((await flush()).skipped).toBe('telemetry is off');
    expect(await backend.exported('samples', BUNDLED_VERSION)).toEqual([]);
  });

  it('sends anonymous statistics, without text or video, under the statistics consent', async () => {
    await b.background('update-settings', { consent_stats: true });
    await page.evaluate(() => (window as unknown as { __ytFixture: { navigate(id: string): Promise<void> } }).__ytFixture.navigate('bbbbbbbbbbb'));
    await page.waitForFunction(() => document.querySelectorAll('[data-ytsent-badge]').length === 5);
    expect(await queued()).toBe(5);
    const r = await flush();
    expect(r).toMatchObject({ sent_batches: 1, sent_items: 5, remaining: 0 });
    const stored = await backend.exported('samples', BUNDLED_VERSION);
    expect(stored).toHaveLength(5);
    for (const s of stored) {
      expect(s.consent).toBe('stats');
      expect(s.text).toBeUndefined();
      expect(s.video_id).toBeUndefined();
      expect(['negative', 'neutral', 'positive']).toContain(s.label);
      expect(Array.isArray(s.tokens)).toBe(true);
    }
  });

  it('sends scrubbed text samples under the text consent', async () => {
    await b.background('update-settings', { consent_text: true });
    await page.evaluate(() => (window as unknown as { __ytFixture: { navigate(id: string): Promise<void> } }).__ytFixture.navigate('aaaaaaaaaaa'));
    await waitForBadges(page, 20);
    // Only comments not scored before are new samples: load the rest of the page (incl. the PII one).
    await page.evaluate(() => document.querySelector('#continuations')!.scrollIntoView());
    await waitForBadges(page, 32);
    expect(await queued()).toBe(12);
    expect(await flush()).toMatchObject({ sent_items: 12, remaining: 0 });
    const text = (await backend.exported('samples', BUNDLED_VERSION)).filter((s) => s.consent === 'text');
    expect(text).toHaveLength(12);
    const pii = text.find((s) => String(s.text).startsWith('Great video! Email me'));
    expect(pii?.text).toBe('Great video! Email me at [email] or call [phone], more at [url] and ask @user');
    expect(pii?.video_id).toBe('aaaaaaaaaaa');
    expect(JSON.stringify(text)).not.toMatch(/jane\.doe|555-123-4567|spam\.example|SomeoneElse/);
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
    expect(all).toHaveLength(5 + 12 + 2);
    const replies = all.filter((s) => ['Totally agree, this is wonderful!', 'No, this is awful and misleading.'].includes(String(s.text)));
    expect(replies).toHaveLength(2);
  });

  it('sends a label correction under the text consent', async () => {
    const before = await badgeCount(page);
    expect(before).toBeGreaterThan(0);
    await clickByAccessibleName(page, 'button', 'Sentiment: neutral, ' + (await page.evaluate(() => {
      const host = Array.from(document.querySelectorAll<HTMLElement>('[data-ytsent-badge]')).find((h) => h.closest('ytd-comment-view-model')!.textContent!.includes('What camera do you use'))!;
      return `${Math.round(Number(host.dataset.ytsentScore) * 100)}% confidence. Activate to correct.`;
    })));
    await clickByAccessibleName(page, 'menuitem', '▲ Positive');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('[data-ytsent-corrected-from]')?.dataset.ytsentLabel === 'positive');
    expect(await flush()).toMatchObject({ sent_items: 1 });
    const feedback = await backend.exported('feedback', BUNDLED_VERSION);
    expect(feedback).toHaveLength(1);
    expect(feedback[0]).toMatchObject({ text: 'What camera do you use for these shots?', predicted: 'neutral', corrected: 'positive', video_id: 'aaaaaaaaaaa' });
  });

  it('purges the queue when the user opts out', async () => {
    await backend.stop();
    await page.evaluate(() => (window as unknown as { __ytFixture: { expandReplies(i: number): void } }).__ytFixture.expandReplies(1));
    await waitForBadges(page, 35);
    expect(await queued()).toBe(1);
    await b.background('update-settings', { consent_stats: false, consent_text: false });
    expect(await queued()).toBe(0);
    await backend.restart();
  });
});
