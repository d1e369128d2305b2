/**
 * Where the n-gram model runs: in the service worker, with core's TypeScript forward pass
 * (extension/background/worker-scorer.ts), so a cold start creates no offscreen document and
 * compiles no WebAssembly; onnxruntime-web in the offscreen document when the user asks for it by
 * name. Both paths give the same answers on the same texts.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { launchWithExtension, openVideo, type ExtensionBrowser } from './browser.js';
import { BUNDLED_VERSION } from './models.js';

let b: ExtensionBrowser | null = null;
afterEach(async () => {
  await b?.close();
  b = null;
});

interface Status {
  execution: string | null;
  ort_builds: string[] | null;
  scoring: {
    path: string;
    offscreen_open: boolean;
    last_execution: string | null;
    worker: { version: string | null; load_ms: number | null; golden_max_abs_diff: number | null; scored_texts: number; refused: Record<string, string> };
  };
}
interface Scored {
  model_version: string;
  execution: string | null;
  results: Array<{ id: string; label: string; probs: number[]; lang: string; supported: boolean; cached: boolean }>;
}

/** Offscreen documents that exist right now, as Chrome lists them. */
const offscreenDocuments = (br: ExtensionBrowser) =>
  br.extensionPage.evaluate(async () => (await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT' as chrome.runtime.ContextType] })).length);

/** The fixture texts (several sources and languages), scored in requests within the per-request limit. */
const TEXTS = readFileSync(new URL('../fixtures/texts.jsonl', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((l) => (JSON.parse(l) as { text: string }).text);

async function scoreAll(br: ExtensionBrowser, texts: string[]): Promise<{ executions: Set<string | null>; results: Scored['results'] }> {
  const executions = new Set<string | null>();
  const results: Scored['results'] = [];
  for (let i = 0; i < texts.length; i += 200) {
    const r = await br.background<Scored>('score', { video_id: null, comments: texts.slice(i, i + 200).map((text, j) => ({ id: String(i + j), text })) });
    expect(r.model_version).toBe(BUNDLED_VERSION);
    executions.add(r.execution);
    results.push(...r.results);
  }
  return { executions, results };
}

describe('where the n-gram model runs', () => {
  it('badges a cold start from the service worker: no offscreen document is ever created', async () => {
    b = await launchWithExtension();
    const page = await openVideo(b.context, 'aaaaaaaaaaa');
    await page.waitForFunction(() => document.querySelectorAll('[data-ytsent-badge]').length >= 20, null, { timeout: 60_000 });
    const status = await b.background<Status>('get-status');
    expect(status.execution).toBe('ts');
    expect(status.scoring).toMatchObject({ path: 'ts', offscreen_open: false, last_execution: 'ts', worker: { version: BUNDLED_VERSION, refused: {} } });
    // The golden examples were reproduced before the first comment was scored.
    expect(status.scoring.worker.golden_max_abs_diff).toBeLessThan(1e-3);
    expect(status.scoring.worker.scored_texts).toBeGreaterThanOrEqual(20);
    // onnxruntime-web lives only in the offscreen document: none exists, so none was loaded.
    expect(await offscreenDocuments(b)).toBe(0);
    expect(status.ort_builds).toBeNull();

    const tabId = await b.extensionPage.evaluate(async () => (await chrome.tabs.query({ url: 'https://www.youtube.com/*' }))[0]!.id!);
    const popup = await b.context.newPage();
    await popup.goto(`chrome-extension://${b.extensionId}/popup/popup.html?tab=${tabId}`);
    await popup.waitForSelector('#video:not([hidden])');
    expect(await popup.textContent('#execution')).toBe('JavaScript (service worker)');
    expect(await offscreenDocuments(b)).toBe(0);
  });

  it(`gives the same answers as onnxruntime-web WASM on ${TEXTS.length} texts: probabilities within 1e-3, labels and languages equal`, async () => {
    b = await launchWithExtension();
    const ts = await scoreAll(b, TEXTS);
    expect([...ts.executions]).toEqual(['ts']);
    expect(await offscreenDocuments(b)).toBe(0);

    // The same texts again on onnxruntime: the local cache would answer them, so it is emptied
    // first (which also resets the settings), then WASM is asked for by name.
    await b.background('delete-all-data');
    await b.background('update-settings', { execution: 'wasm' });
    const ort = await scoreAll(b, TEXTS);
    expect([...ort.executions]).toEqual(['wasm']);
    expect(await offscreenDocuments(b)).toBe(1);
    expect(ort.results.every((r) => !r.cached)).toBe(true);

    let maxDiff = 0;
    const disagreements: string[] = [];
    ts.results.forEach((a, i) => {
      const o = ort.results[i]!;
      expect(o.id).toBe(a.id);
      for (let k = 0; k < 3; k++) maxDiff = Math.max(maxDiff, Math.abs(a.probs[k]! - o.probs[k]!));
      if (a.label !== o.label || a.lang !== o.lang || a.supported !== o.supported) disagreements.push(`${TEXTS[i]!.slice(0, 60)}: ${a.label}/${a.lang} vs ${o.label}/${o.lang}`);
    });
    expect(disagreements).toEqual([]);
    expect(maxDiff).toBeLessThanOrEqual(1e-3);
    // The texts are not all English: the language identification was compared too.
    expect(new Set(ts.results.map((r) => r.lang)).size).toBeGreaterThan(3);

    // Back to the default: the offscreen document is closed, and the service worker scores again.
    await b.background('update-settings', { execution: 'auto' });
    expect(await offscreenDocuments(b)).toBe(0);
    const again = await b.background<Scored>('score', { video_id: null, comments: [{ id: '0', text: 'a comment nobody scored before' }] });
    expect(again.execution).toBe('ts');
  });
});
