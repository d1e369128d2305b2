/**
 * The extension on a YouTube-like watch page: badges for static, lazily loaded and reply comments
 * and after SPA navigation; the summary matches the badges; the filter; markup stays text; themes;
 * the results cache; the popup and its CSV export.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessibleNames, badges, clickByAccessibleName, launchWithExtension, openVideo, summaryCounts, type ExtensionBrowser } from './browser.js';
import type { Page } from 'playwright-core';
import { BUNDLED_VERSION } from './models.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/youtube/comments.json', import.meta.url), 'utf8')) as {
  videos: Record<string, Array<{ text: string; replies?: Array<{ text: string }> }>>;
};
const VIDEO = 'aaaaaaaaaaa';
const VIDEO_2 = 'bbbbbbbbbbb';
const ALL = fixture.videos.default!;

let b: ExtensionBrowser;
let page: Page;

const counters = async (): Promise<Record<string, number>> => (await b.background<{ counters: Record<string, number> }>('get-status')).counters;
const waitForBadges = (p: Page, n: number) => p.waitForFunction((count) => document.querySelectorAll('[data-ytsent-badge]').length >= count, n, { timeout: 60_000 });
const labelOf = (list: Awaited<ReturnType<typeof badges>>, start: string) => list.find((x) => x.text.startsWith(start))?.label;

beforeAll(async () => {
  b = await launchWithExtension();
  page = await openVideo(b.context, VIDEO);
  await waitForBadges(page, 20);
});
afterAll(async () => {
  await b?.close();
});

describe('badges and summary', () => {
  it('badges every rendered comment with a label that reads right', async () => {
    const list = await badges(page);
    expect(list).toHaveLength(20);
    expect(labelOf(list, 'This is honestly the best explanation')).toBe('positive');
    expect(labelOf(list, 'This is the worst tutorial ever')).toBe('negative');
    expect(labelOf(list, 'What camera do you use')).toBe('neutral');
    for (const x of list) expect(x.score).toBeGreaterThan(1 / 3);
  });

  it('gives every badge an accessible name with label and confidence', async () => {
    const names = (await accessibleNames(page, 'button')).filter((n) => n.startsWith('Sentiment:'));
    expect(names).toHaveLength((await badges(page)).filter((x) => x.label !== 'unsupported').length);
    expect(names.length).toBeGreaterThanOrEqual(18); // the fixture is English: at most a stray misidentification
    for (const n of names) expect(n).toMatch(/^Sentiment: (negative|neutral|positive), (\d{1,3}% confidence|low confidence \(\d{1,2}%\))\. Activate to correct\.$/);
  });

  it('keeps the summary counts equal to the badges', async () => {
    const list = await badges(page);
    const expected = { negative: 0, neutral: 0, positive: 0 };
    const scored = list.filter((x) => x.label !== 'unsupported');
    for (const x of scored) expected[x.label as keyof typeof expected]++;
    expect(await summaryCounts(page)).toMatchObject({
      ...expected,
      total: scored.length,
      otherLanguages: list.length - scored.length,
      lowConfidence: list.filter((x) => x.lowConfidence).length,
    });
  });

  it('badges lazily loaded comments as they arrive', async () => {
    await page.evaluate(() => document.querySelector('#continuations')!.scrollIntoView());
    await waitForBadges(page, ALL.length);
    const list = await badges(page);
    expect(list.filter((x) => !x.reply)).toHaveLength(ALL.length);
    expect((await summaryCounts(page)).total).toBe(ALL.length);
  });

  it('shows comment markup as plain text and never runs it', async () => {
    const list = await badges(page);
    const markup = list.find((x) => x.text.includes('<script>'));
    expect(markup?.text).toContain('<b>bold</b> <img src=x onerror="window.__xss=1"> <script>window.__xss=2</script>');
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.evaluate(() => document.querySelectorAll('#content-text b, #content-text script, #content-text img[src="x"]').length)).toBe(0);
  });

  it('badges replies when a thread is expanded', async () => {
    await page.evaluate(() => (window as unknown as { __ytFixture: { expandReplies(i: number): void } }).__ytFixture.expandReplies(0));
    await waitForBadges(page, ALL.length + 2);
    const replies = (await badges(page)).filter((x) => x.reply);
    expect(replies.map((r) => r.label)).toEqual(['positive', 'negative']);
  });

  it('scores each comment once', async () => {
    // The page so far: every top-level comment and two replies, each distinct text inferred once.
    const c = await counters();
    expect(c.inferences).toBe(ALL.length + 2);
  });

  it('filters to one sentiment and back', async () => {
    // Visible comments (top-level and replies): a thread with a matching reply stays, its other comments hide.
    const visible = () =>
      page.evaluate(() =>
        Array.from(document.querySelectorAll<HTMLElement>('ytd-comment-view-model'))
          .filter((c) => c.checkVisibility())
          .map((c) => c.querySelector<HTMLElement>('[data-ytsent-badge]')!.dataset.ytsentLabel),
      );
    await clickByAccessibleName(page, 'button', '▼ Negative only');
    const negatives = await visible();
    expect(negatives.length).toBe((await summaryCounts(page)).negative);
    expect(new Set(negatives)).toEqual(new Set(['negative']));
    await clickByAccessibleName(page, 'button', 'All');
    expect(await visible()).toHaveLength(ALL.length + 2);
  });

  it('follows the dark theme', async () => {
    await page.evaluate(() => (window as unknown as { __ytFixture: { setDark(d: boolean): void } }).__ytFixture.setDark(true));
    await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLElement>('[data-ytsent-badge], [data-ytsent-summary]')).every((h) => h.dataset.theme === 'dark'));
  });
});

describe('navigation and cache', () => {
  it('re-scores after SPA navigation to another video', async () => {
    await page.evaluate((id) => (window as unknown as { __ytFixture: { navigate(id: string): Promise<void> } }).__ytFixture.navigate(id), VIDEO_2);
    await page.waitForFunction((n) => document.querySelectorAll('[data-ytsent-badge]').length === n, fixture.videos[VIDEO_2]!.length, { timeout: 30_000 });
    expect((await summaryCounts(page)).total).toBe(fixture.videos[VIDEO_2]!.length);
    expect(labelOf(await badges(page), 'Loved the second episode')).toBe('positive');
  });

  it('serves a reload from the cache: no second inference', async () => {
    const before = await counters();
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { __ytFixture?: { ready: Promise<boolean> } }).__ytFixture?.ready);
    await waitForBadges(page, fixture.videos[VIDEO_2]!.length);
    const after = await counters();
    expect(after.inferences).toBe(before.inferences);
    expect(after.cache_hits! - (before.cache_hits ?? 0)).toBe(fixture.videos[VIDEO_2]!.length);
  });
});

describe('Shorts', () => {
  it('badges the comments panel of a Short and summarises it', async () => {
    const short = await openVideo(b.context, 'ccccccccccc', '', 'shorts');
    await waitForBadges(short, 20);
    expect(labelOf(await badges(short), 'This is the worst tutorial ever')).toBe('negative');
    const counts = await summaryCounts(short);
    expect(counts.total).toBe(20);
    // The Shorts page is in the dark theme from the start.
    expect(await short.evaluate(() => document.querySelector<HTMLElement>('[data-ytsent-summary]')!.dataset.theme)).toBe('dark');
    await short.close();
  });
});

describe('popup', () => {
  it('shows the distribution, examples and state, and exports CSV', async () => {
    const video = await openVideo(b.context, VIDEO);
    await video.evaluate(() => document.querySelector('#continuations')!.scrollIntoView());
    await waitForBadges(video, ALL.length);
    const tabId = await b.extensionPage.evaluate(async () => (await chrome.tabs.query({ url: 'https://www.youtube.com/*' })).find((t: chrome.tabs.Tab) => t.url?.includes('aaaaaaaaaaa'))!.id!);
    const popup = await b.context.newPage();
    await popup.goto(`chrome-extension://${b.extensionId}/popup/popup.html?tab=${tabId}`);
    await popup.waitForSelector('#video:not([hidden])');
    const counts = await summaryCounts(video);
    const rows = await popup.$$eval('#counts tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-label'), Number(tr.children[1]!.textContent)]));
    expect(Object.fromEntries(rows)).toEqual({ positive: counts.positive, neutral: counts.neutral, negative: counts.negative });
    expect(await popup.textContent('#local')).toContain('Scored on this device');
    expect(await popup.textContent('#model')).toContain(BUNDLED_VERSION);
    // Model and runtime details live here, not in the page's summary bar.
    // The n-gram model runs in the service worker (scoring-path.test.ts).
    expect(await popup.textContent('#execution')).toBe('JavaScript (service worker)');
    expect(await popup.textContent('#threshold')).toMatch(/^\d{1,2}% confidence$/);
    expect(await popup.textContent('#telemetry')).toContain('Off');
    expect(await popup.$$eval('#top-positive li', (li) => li.length)).toBe(3);
    expect(await popup.$$eval('#top-negative li', (li) => li.length)).toBe(3);
    const [download] = await Promise.all([popup.waitForEvent('download'), popup.click('#export')]);
    const csv = readFileSync((await download.path())!, 'utf8');
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe('video_id,text,label,confidence,low_confidence,language,language_supported,p_negative,p_neutral,p_positive,is_reply,model_version');
    expect(lines).toHaveLength(counts.total + 1);
    // Markup is exported as text, quoted where it holds quotes.
    expect(csv).toContain('"<b>bold</b> <img src=x onerror=""window.__xss=1""> <script>window.__xss=2</script> not sure what to think"');
    await popup.close();
    await video.close();
  });
});

describe('options', () => {
  it('previews exactly what the queue holds and what each consent would send, live, and deletes all local data', async () => {
    const options = await b.context.newPage();
    await options.goto(`chrome-extension://${b.extensionId}/options/options.html`);
    await options.waitForFunction(() => document.querySelector('#preview-example')?.textContent?.includes('nothing is sent'));
    expect(await options.textContent('#preview')).toBe('Nothing is waiting to be sent.');
    expect(await options.isChecked('#consent_stats')).toBe(false);
    expect(await options.isChecked('#consent_text')).toBe(false);

    type Example = { consent: string; uploads: Array<{ endpoint: string; body: { consent: string; items: Array<Record<string, unknown>> } }> };
    await options.check('#consent_stats');
    await options.waitForFunction(() => document.querySelector('#preview-example')!.textContent!.includes('"consent": "stats"'));
    const stats = JSON.parse((await options.textContent('#preview-example'))!) as Example;
    // Statistics are one hourly aggregate: counts only, nothing per comment.
    expect(stats.uploads.map((u) => u.endpoint)).toEqual(['/v1/aggregates']);
    for (const item of stats.uploads[0]!.body.items) {
      expect(Object.keys(item).sort()).toEqual(['confidence_counts', 'hour_from', 'hour_to', 'label_counts', 'languages', 'n', 'token_counts', 'token_n']);
    }

    await options.check('#consent_text');
    await options.waitForFunction(() => document.querySelector('#preview-example')!.textContent!.includes('"consent": "text"'));
    const text = JSON.parse((await options.textContent('#preview-example'))!) as Example;
    expect(text.uploads.map((u) => u.endpoint)).toEqual(['/v1/aggregates', '/v1/samples']);
    expect(text.uploads[1]!.body.items.every((i) => typeof i.text === 'string' && (i.ts as number) % 3_600_000 === 0)).toBe(true);
    expect((await b.background<{ settings: { consent_text: boolean } }>('get-status')).settings.consent_text).toBe(true);
    // Nothing was scored since: the queue itself is still empty, and the preview says so.
    expect(await options.textContent('#preview')).toBe('Nothing is waiting to be sent.');

    // Statistics off turns both off: the text consent includes statistics.
    await options.uncheck('#consent_stats');
    await options.waitForFunction(() => document.querySelector('#preview-example')!.textContent!.includes('nothing is sent'));
    expect(await options.isChecked('#consent_text')).toBe(false);

    options.once('dialog', (d) => void d.accept());
    await options.click('#delete-all');
    await options.waitForFunction(() => document.querySelector('#delete-result')!.textContent === 'All local data deleted.');
    const status = await b.background<{ cache: { entries: number }; counters: Record<string, number> }>('get-status');
    expect(status.cache.entries).toBe(0);
    expect(status.counters).toEqual({});
    await options.close();
  });
});

describe('message senders', () => {
  /**
   * Runs `expression` in the content script's own context on `p` (the extension's isolated world,
   * found through CDP): exactly what a compromised YouTube renderer driving the content script
   * could send.
   */
  async function inContentScript<T>(p: Page, expression: string): Promise<T> {
    const cdp = await p.context().newCDPSession(p);
    try {
      const contexts: Array<{ id: number; origin: string; name: string; auxData?: { type?: string; isDefault?: boolean } }> = [];
      cdp.on('Runtime.executionContextCreated', (e: { context: (typeof contexts)[number] }) => contexts.push(e.context));
      await cdp.send('Runtime.enable');
      const world = contexts.find((c) => c.auxData?.type === 'isolated' && c.origin === `chrome-extension://${b.extensionId}`);
      if (!world) throw new Error(`no content-script world among ${JSON.stringify(contexts.map((c) => [c.name, c.origin, c.auxData?.type]))}`);
      const { result, exceptionDetails } = (await cdp.send('Runtime.evaluate', { expression, contextId: world.id, awaitPromise: true, returnByValue: true })) as {
        result: { value: T };
        exceptionDetails?: { text: string; exception?: { description?: string } };
      };
      if (exceptionDetails) throw new Error(exceptionDetails.exception?.description ?? exceptionDetails.text);
      return result.value;
    } finally {
      await cdp.detach();
    }
  }

  it('refuses update-settings from a content script: settings stay as they were', async () => {
    // The offscreen document runs only onnxruntime (the n-gram model is scored in the service
    // worker by default): asked for by name, so it is open for the check below.
    await b.background('update-settings', { execution: 'wasm' });
    expect((await b.background<{ execution: string }>('score', { video_id: null, comments: [{ id: '0', text: 'scored offscreen for once' }] })).execution).toBe('wasm');
    const before = (await b.background<{ settings: Record<string, unknown> }>('get-status')).settings;
    const send = (message: unknown) => inContentScript<{ ok: boolean; error?: string; data?: unknown }>(page, `chrome.runtime.sendMessage(${JSON.stringify(message)})`);
    // The channel itself works from there: scoring is what content scripts are for.
    expect(await send({ target: 'background', type: 'score', data: { video_id: null, comments: [{ id: '0', text: 'what a great video' }] } })).toMatchObject({ ok: true });
    const refused = await send({ target: 'background', type: 'update-settings', data: { consent_text: true, backend_url: 'http://127.0.0.1:1' } });
    expect(refused).toEqual({ ok: false, error: "refused: update-settings is only accepted from the extension's own pages (web pages may only send score, warm-up, feedback)" });
    for (const type of ['delete-all-data', 'rollback-model', 'telemetry-preview'])
      expect(await send({ target: 'background', type }), type).toMatchObject({ ok: false, error: expect.stringMatching(/^refused: /) });
    // The offscreen document refuses it too.
    expect(await send({ target: 'offscreen', type: 'status' })).toEqual({ ok: false, error: "refused: the offscreen document only answers the extension's own pages" });
    expect((await b.background<{ settings: Record<string, unknown> }>('get-status')).settings).toEqual(before);
    // The same change from the options page goes through.
    expect(await b.background('update-settings', { consent_stats: true })).toMatchObject({ consent_stats: true });
    await b.background('update-settings', { consent_stats: false, execution: 'auto' });
  });
});
