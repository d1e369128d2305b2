/**
 * Extension benchmark, measured in Debian's Chromium with the built extension:
 * - inference: model load time; inference latency per batch (p50/p95) and comments/s where the
 *   model runs: for the n-gram model, core's TypeScript forward pass in the service worker (the
 *   default) and onnxruntime-web in the offscreen document on WASM and WebGPU (--enable-unsafe-webgpu:
 *   SwiftShader here, no GPU), each in the scorer and as a round trip from an extension page; time
 *   from a comment entering the DOM to its badge (p50/p95) on a 500-comment page, cold, warm and
 *   cached, on the default path and on WASM;
 * - scale (issue 8): 2,000 comments arriving 20 every 50 ms, against the same page without the
 *   extension in the same run: long tasks, the page's insertion time, comments badged within 1 s of
 *   the last batch; 2,000 comments appended at once; a reload of a scored video against its first visit;
 * - cold: comment-to-first-badge in a fresh browser profile (the model not loaded yet), p50 over runs;
 * - transformer: the inference figures for a DistilBERT-sized int8 transformer (random weights);
 * - the packaged zip size.
 * `BENCH_PARTS=scale,cold` runs a subset (the results files then hold that subset).
 * Writes bench/results/extension.{json,md}.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import { generateReleaseKey } from '../core/release-signature.js';
import type { BrowserContext, Page } from 'playwright-core';
import { readChecksums, readDataset } from '../training/datasets.js';
import { loadParams } from '../training/params.js';
import { DEFAULT_PARAMS, REPO_ROOT } from '../training/paths.js';
import { resolveDataDir } from '../training/pipeline.js';
import { splitYoutube } from '../training/stages/preprocess.js';
import { writeTransformerBundle } from '../model-export/transformer-bundle.js';
import { MAX_ZIP_BYTES, packageExtension } from '../scripts/package-extension.js';
import { launchWithExtension, launchWithoutExtension, openVideo, type ExtensionBrowser } from '../tests/e2e/browser.js';
import { startBackend } from '../tests/e2e/backend.js';
import { RELEASE_KEY_FILE_ENV } from '../tests/e2e/release-key.js';
import { machine, median, percentile, table, writeResults } from './stats.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PAGE_COMMENTS = Number(process.env.BENCH_PAGE_COMMENTS ?? 500);
const TRANSFORMER_PAGE_COMMENTS = Number(process.env.BENCH_TRANSFORMER_PAGE_COMMENTS ?? 100);
const WEBGPU = ['--enable-unsafe-webgpu'];
const PARTS = new Set((process.env.BENCH_PARTS ?? 'inference,scale,cold,transformer').split(',').map((x) => x.trim()));
const SCALE_RUNS = Number(process.env.BENCH_SCALE_RUNS ?? 3);
const SCALE_COMMENTS = Number(process.env.BENCH_SCALE_COMMENTS ?? 2000);
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 7);

/** How to read the tables (appended to the results). */
const NOTES = `## Notes

- WebGPU here is SwiftShader, a CPU implementation: the WebGPU rows show that the path works and
  agrees with WASM, not what a real GPU gives. For a transformer bundle the extension measures both
  on the user's device and keeps WebGPU only when it is faster; only then is the WebGPU build of
  onnxruntime-web loaded. The n-gram model runs on WebGPU only when the user asks for it.
- Where the n-gram model runs, and why: in the service worker, with core's TypeScript forward pass
  (extension/background/worker-scorer.ts), unless the user picks an onnxruntime provider in the
  options. Featurization and language identification are the same code on both paths and most of
  the cost; what is left is a gather and sum of a few hundred int8 weights per comment, which
  onnxruntime-web cannot do faster than the message to the offscreen document and back, tensors
  and a session run cost. The rule is fixed rather than measured on each device (as WebGPU is for
  transformers): measuring would mean creating the offscreen document and compiling onnxruntime's
  WebAssembly on every install, the cost this path removes. The scorer's own time is the fairest
  comparison (the same-browser table); a round trip also carries the service worker's bookkeeping
  (cache reads and writes), which overlaps the model only when the model runs in another process,
  and both vary with the machine's load from run to run.
- Cold start: the service worker starts loading the model when a YouTube tab starts loading (or,
  when the worker itself is only starting, for any YouTube tab still loading): it reads the bundle's
  files, checks their sha256 against the manifest, decodes the int8 weights from model.onnx and
  reproduces the golden examples (the "load ms" above). No offscreen document is created and no
  WebAssembly compiled; what remains on this fixture page, whose first comments are in the DOM
  before the content script runs (document_idle), is mostly waiting for the content script. With
  the model in the offscreen document on onnxruntime-web's WASM, before it moved to the service
  worker, the same measurement gave p50 709.5 ms, p95 825.1 ms (2026-11-29).
- Comment-to-badge figures of a few hundred ms on a 500-comment page, cached ones included, are
  the content script pacing itself (below), not scoring: from 200 comments on, a long task on the
  page in the last 3 s (which a reload brings on a busy machine) makes it insert badges at most
  every 300 ms. They come and go with the machine's load, on either path: extension.json has each run.
- Long comment sections: the content script reads only what mutations bring and pipelines its
  scoring requests. On a page of 1,000 comments or more, or of 200 or more that showed a long task
  in the last 3 s, it sends at most every 150 ms and inserts badges at most every 300 ms (200 per
  frame): every insertion into a long list costs the page a frame of style, layout and paint
  whatever its size, so fewer, larger insertions cost the page less. Comments arriving more slowly
  than that (as YouTube loads them, about 20 per request) are badged at once.
- The machine is shared with other jobs (training runs use about one of its two cores; load average
  at the top). Wall-clock figures (long tasks above all) include time the page's thread waited for
  a core, and vary from run to run with that load: the per-run figures are in extension.json.
- The DistilBERT-sized graph runs with max_length 512 like distilbert-base: a batch is padded to its
  longest comment, so a batch holding one long comment costs seconds (the p95 columns). Typical
  comments take about 90 ms each, about 50 to 100 times the n-gram model's cost per comment.`;

interface Scored {
  inference_ms: number;
  execution: string | null;
  model_version: string;
}

interface Latency {
  /** Per batch, in the scorer (featurization included): ms. */
  p50: number;
  p95: number;
  /** Comments per second of scorer time. */
  per_s: number;
  /** Per batch, as a round trip from an extension page (messages included): ms, and comments per second of it. */
  call_p50: number;
  call_per_s: number;
}

function youtubeTexts(): string[] {
  const params = loadParams(DEFAULT_PARAMS);
  const dir = resolveDataDir(params);
  const [, val] = splitYoutube(readDataset(dir, 'youtube', readChecksums(dir)).rows, params.data.youtube_val_fraction, params.seed);
  return val.map((r) => r.text);
}

/**
 * Inference latency per batch for fresh texts in batches of `size`: in the scorer (the service
 * worker's forward pass, or the offscreen engine) and as the round trip an extension page waits for.
 */
async function inferenceLatency(b: ExtensionBrowser, texts: string[], size: number, batches: number, salt: string): Promise<Latency> {
  const times: number[] = [];
  const calls: number[] = [];
  let n = 0;
  for (let i = 0; i < batches; i++) {
    const chunk = texts.slice((i * size) % texts.length, ((i * size) % texts.length) + size).map((t, j) => `${t} ${salt}${i}-${j}`);
    const t0 = performance.now();
    const r = await b.background<Scored>('score', { video_id: null, comments: chunk.map((t, j) => ({ id: String(j), text: t })) });
    calls.push(performance.now() - t0);
    times.push(r.inference_ms);
    n += chunk.length;
  }
  const sum = (xs: number[]) => xs.reduce((a, c) => a + c, 0);
  return { p50: percentile(times, 50), p95: percentile(times, 95), per_s: n / (sum(times) / 1000), call_p50: percentile(calls, 50), call_per_s: n / (sum(calls) / 1000) };
}

/** Loads a large fixture page 20 comments at a time (as scrolling does) and reads insert→badge times. */
async function commentToBadge(b: ExtensionBrowser, salt: string, comments: number, page?: Page): Promise<{ p50: number; p95: number; page: Page }> {
  const p = page ?? (await openVideo(b.context, 'aaaaaaaaaaa', `&n=${comments}&s=${salt}`));
  if (page) {
    await p.reload();
    await p.waitForFunction(() => (window as unknown as { __ytFixture?: { ready: Promise<boolean> } }).__ytFixture?.ready);
  }
  await p.evaluate(async (total) => {
    const f = (window as unknown as { __ytFixture: { loadMore(n: number): number; state: { shown: number } } }).__ytFixture;
    while (f.state.shown < total) {
      f.loadMore(20);
      await new Promise((r) => setTimeout(r, 50));
    }
  }, comments);
  await p.waitForFunction((n) => document.querySelectorAll('[data-ytsent-badge]').length >= n, comments, { timeout: 600_000, polling: 100 });
  const times = await p.evaluate(() => (window as unknown as { __ytFixture: { badgeTimes: number[] } }).__ytFixture.badgeTimes.slice());
  return { p50: percentile(times, 50), p95: percentile(times, 95), page: p };
}

// --- Scale and cold start (issue 8) -------------------------------------------------------------

interface LongTasks {
  count: number;
  total_ms: number;
  max_ms: number;
}

interface Fixture {
  loadMore(n: number): number;
  state: { shown: number };
}

/** Starts recording the page's long tasks (main thread busy > 50 ms: the page's and the content script's). */
async function recordLongTasks(p: Page): Promise<void> {
  await p.evaluate(() => {
    const w = window as unknown as { __longTasks: number[] };
    w.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push(e.duration);
    }).observe({ type: 'longtask' });
  });
}

async function longTasks(p: Page): Promise<LongTasks> {
  const d = await p.evaluate(() => (window as unknown as { __longTasks: number[] }).__longTasks.slice());
  return { count: d.length, total_ms: d.reduce((a, c) => a + c, 0), max_ms: d.length ? Math.max(...d) : 0 };
}

const badgeCount = (p: Page, n: number) => p.waitForFunction((k) => document.querySelectorAll('[data-ytsent-badge]').length >= k, n, { timeout: 120_000, polling: 50 });
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Arrival {
  long_tasks: LongTasks;
  /**
   * The page's insertion time: for each batch, from the start of inserting 20 comments to the end
   * of that task's microtasks (where mutation observers, ours included, run), summed.
   */
  insertion_ms: number;
  /** Stricter: for each batch, until the page's next task runs (our own tasks and frames in between count too), summed. */
  insertion_to_next_task_ms: number;
  /** Wall time of the whole arrival (100 batches, 50 ms apart at best). */
  arrival_ms: number;
  /** Share of the comments badged within 1 s of the last batch; time after the last batch when 99% were. */
  badged_within_1s?: number;
  p99_after_last_ms?: number;
}

/**
 * SCALE_COMMENTS comments arriving 20 every 50 ms (scrolling a long comment section), on a page with
 * or without the extension. With it, the model is loaded first (another video), so the figures are
 * the content script's steady state, and every text is new (nothing cached).
 */
async function arrival(context: BrowserContext, salt: string, extension: boolean): Promise<Arrival> {
  if (extension) {
    const warm = await openVideo(context, 'bbbbbbbbbbb', `&s=warm${salt}`);
    await badgeCount(warm, 5);
    await warm.close();
  }
  const p = await openVideo(context, 'aaaaaaaaaaa', `&n=${SCALE_COMMENTS}&s=${salt}`);
  if (extension) await badgeCount(p, 20);
  await settle(500);
  await recordLongTasks(p);
  const timing = await p.evaluate(async (total) => {
    const f = (window as unknown as { __ytFixture: Fixture }).__ytFixture;
    let insertion = 0;
    let toNextTask = 0;
    let lastAt = 0;
    const t0 = performance.now();
    while (f.state.shown < total) {
      const a = performance.now();
      lastAt = a;
      f.loadMore(20);
      // Mutation observers are notified in a microtask queued by the first mutation, so a microtask
      // queued now runs after them: the end of the insertion task.
      await new Promise<void>((r) => queueMicrotask(r));
      insertion += performance.now() - a;
      await new Promise((r) => setTimeout(r, 0));
      toNextTask += performance.now() - a;
      await new Promise((r) => setTimeout(r, Math.max(0, 50 - (performance.now() - a))));
    }
    return { insertion, toNextTask, lastAt, arrival: performance.now() - t0 };
  }, SCALE_COMMENTS);
  const out: Arrival = { long_tasks: { count: 0, total_ms: 0, max_ms: 0 }, insertion_ms: timing.insertion, insertion_to_next_task_ms: timing.toNextTask, arrival_ms: timing.arrival };
  if (extension) {
    await badgeCount(p, SCALE_COMMENTS);
    const badgedAt = await p.evaluate(() => Array.from(document.querySelectorAll<HTMLElement>('ytd-comment-view-model')).map((c) => Number(c.dataset.badgedAt)));
    const after = badgedAt.map((t) => t - timing.lastAt).sort((a, b) => a - b);
    out.badged_within_1s = after.filter((x) => x <= 1000).length / after.length;
    out.p99_after_last_ms = Math.max(0, percentile(after, 99));
  }
  await settle(1500); // trailing work
  out.long_tasks = await longTasks(p);
  await p.close();
  return out;
}

/** The same append on a page without the extension: the page's own long tasks. */
async function bulkPlain(context: BrowserContext, salt: string): Promise<LongTasks> {
  const p = await openVideo(context, 'aaaaaaaaaaa', `&n=${SCALE_COMMENTS + 20}&s=${salt}`);
  await settle(300);
  await recordLongTasks(p);
  await p.evaluate((n) => (window as unknown as { __ytFixture: Fixture }).__ytFixture.loadMore(n), SCALE_COMMENTS);
  await settle(2000);
  const lt = await longTasks(p);
  await p.close();
  return lt;
}

/** SCALE_COMMENTS new comments appended in one go to a page whose first 20 are badged: time until all are badged. */
async function bulk(b: ExtensionBrowser, salt: string): Promise<{ all_badged_ms: number; long_tasks: LongTasks }> {
  const p = await openVideo(b.context, 'aaaaaaaaaaa', `&n=${SCALE_COMMENTS + 20}&s=${salt}`);
  await badgeCount(p, 20);
  await settle(300);
  await recordLongTasks(p);
  const t0 = await p.evaluate((n) => {
    const t = performance.now();
    (window as unknown as { __ytFixture: Fixture }).__ytFixture.loadMore(n);
    return t;
  }, SCALE_COMMENTS);
  await badgeCount(p, SCALE_COMMENTS + 20);
  const last = await p.evaluate(() => Math.max(...Array.from(document.querySelectorAll<HTMLElement>('ytd-comment-view-model')).map((c) => Number(c.dataset.badgedAt))));
  await settle(500);
  const lt = await longTasks(p);
  await p.close();
  return { all_badged_ms: last - t0, long_tasks: lt };
}

/**
 * The results cache across a reload: a video whose RELOAD_COMMENTS comments arrive at once, after
 * the page (and the content script) has loaded, visited for the first time with the model loaded,
 * then reloaded (the same comments, answered from the cache). Measured from the comments entering
 * the DOM to their last badge, and the comment-to-badge median. A short page (under 200 comments),
 * so that what differs is scoring, not how badges are paced on long pages.
 */
const RELOAD_COMMENTS = 150;
async function visitAndReload(b: ExtensionBrowser, salt: string): Promise<{ first_ms: number; reload_ms: number; first_p50: number; reload_p50: number }> {
  const load = async (p: Page) => {
    await settle(400); // the content script is running
    const t0 = await p.evaluate((n) => {
      const t = performance.now();
      (window as unknown as { __ytFixture: Fixture }).__ytFixture.loadMore(n);
      return t;
    }, RELOAD_COMMENTS);
    await badgeCount(p, RELOAD_COMMENTS);
    return p.evaluate((start) => {
      const t = (window as unknown as { __ytFixture: { badgeTimes: number[] } }).__ytFixture.badgeTimes.slice().sort((a, b) => a - b);
      const last = Math.max(...Array.from(document.querySelectorAll<HTMLElement>('ytd-comment-view-model')).map((c) => Number(c.dataset.badgedAt)));
      return { last: last - start, p50: t[t.length >> 1]! };
    }, t0);
  };
  const p = await openVideo(b.context, 'aaaaaaaaaaa', `&n=${RELOAD_COMMENTS}&first=0&s=${salt}`);
  const first = await load(p);
  await settle(500); // the cache writes after the reply
  await p.reload();
  await p.waitForFunction(() => (window as unknown as { __ytFixture?: { ready: Promise<boolean> } }).__ytFixture?.ready);
  const again = await load(p);
  await p.close();
  return { first_ms: first.last, reload_ms: again.last, first_p50: first.p50, reload_p50: again.p50 };
}

interface ColdRun {
  /** First comment entering the DOM → first badge, ms. */
  ms: number;
  /** Where the model ran, and whether an offscreen document existed once the first badge showed. */
  execution: string | null;
  offscreen_documents: number;
  /** The service worker's model load (files, sha256, weights, golden examples), ms; null when offscreen. */
  model_load_ms: number | null;
}

/** A fresh profile opens a video: from its first comment entering the DOM to the first badge. */
async function coldFirstBadge(run: number): Promise<ColdRun> {
  const b = await launchWithExtension();
  try {
    const p = await openVideo(b.context, 'aaaaaaaaaaa', `&s=cold${run}`);
    await badgeCount(p, 1);
    const ms = await p.evaluate(() => {
      const comments = Array.from(document.querySelectorAll<HTMLElement>('ytd-comment-view-model'));
      const inserted = Math.min(...comments.map((c) => Number(c.dataset.insertedAt)));
      const badged = Math.min(...comments.filter((c) => c.dataset.badgedAt).map((c) => Number(c.dataset.badgedAt)));
      return badged - inserted;
    });
    const offscreen_documents = await b.extensionPage.evaluate(async () => (await chrome.runtime.getContexts({ contextTypes: ['OFFSCREEN_DOCUMENT' as chrome.runtime.ContextType] })).length);
    const status = await b.background<{ execution: string | null; scoring: { worker: { load_ms: number | null } } }>('get-status');
    return { ms, execution: status.execution, offscreen_documents, model_load_ms: status.scoring.worker.load_ms };
  } finally {
    await b.close();
  }
}

interface ScaleFigures {
  with_extension: Arrival[];
  without_extension: Arrival[];
  bulk: Array<{ all_badged_ms: number; long_tasks: LongTasks }>;
  bulk_without_extension: LongTasks[];
  reload: Array<{ first_ms: number; reload_ms: number; first_p50: number; reload_p50: number }>;
}

async function measureScale(): Promise<ScaleFigures> {
  const f: ScaleFigures = { with_extension: [], without_extension: [], bulk: [], bulk_without_extension: [], reload: [] };
  for (let run = 0; run < SCALE_RUNS; run++) {
    // Alternate with and without, each in a fresh browser, so background load hits both alike.
    const plain = await launchWithoutExtension();
    try {
      f.without_extension.push(await arrival(plain.context, `plain${run}`, false));
      f.bulk_without_extension.push(await bulkPlain(plain.context, `plainbulk${run}`));
    } finally {
      await plain.close();
    }
    const b = await launchWithExtension();
    try {
      f.with_extension.push(await arrival(b.context, `scale${run}`, true));
      f.bulk.push(await bulk(b, `bulk${run}`));
      f.reload.push(await visitAndReload(b, `reload${run}`));
    } finally {
      await b.close();
    }
    console.error(`scale: run ${run + 1}/${SCALE_RUNS} done`);
  }
  return f;
}

/** Figures for one place the model runs (a path), from fresh browsers. */
interface PathFigures {
  /** Where the model ran, per run (status execution: ts, wasm, webgpu). */
  execution: Array<string | null>;
  load_ms: Array<number | null>;
  batch1: Latency[];
  batch64: Latency[];
  badge: Record<'cold' | 'warm' | 'cached', Array<{ p50: number; p95: number }>>;
}

interface ModelFigures {
  /** Default settings: for an n-gram bundle, the service worker's TypeScript forward pass. Null for a transformer (it has one path, offscreen). */
  ts: PathFigures | null;
  /** onnxruntime-web's WASM provider in the offscreen document (settings: wasm). */
  wasm: PathFigures;
  webgpu: { load_ms: Array<number | null>; batch64: Latency[]; execution: Array<string | null> };
}

const emptyPath = (): PathFigures => ({ execution: [], load_ms: [], batch1: [], batch64: [], badge: { cold: [], warm: [], cached: [] } });

/**
 * One path's figures in a fresh browser: comment-to-badge cold (nothing loaded, nothing cached),
 * warm and cached on a long page, then batches of 1 and of n.
 */
async function measurePath(
  f: PathFigures,
  execution: 'auto' | 'wasm',
  run: number,
  texts: string[],
  opts: { setup?: (b: ExtensionBrowser) => Promise<void>; batchSize: number; batches: number; pageComments: number },
): Promise<void> {
  const b = await launchWithExtension();
  const salt = `${execution}r${run}`;
  try {
    if (execution !== 'auto') await b.background('update-settings', { execution });
    await opts.setup?.(b);
    const cold = await commentToBadge(b, `cold${salt}`, opts.pageComments);
    f.badge.cold.push(cold);
    const status = await b.background<{ execution: string | null; model_load_ms: number | null }>('get-status');
    f.execution.push(status.execution);
    f.load_ms.push(status.model_load_ms);
    await cold.page.close();
    const warm = await commentToBadge(b, `warm${salt}`, opts.pageComments);
    f.badge.warm.push(warm);
    f.badge.cached.push(await commentToBadge(b, `warm${salt}`, opts.pageComments, warm.page));
    await warm.page.close();
    f.batch1.push(await inferenceLatency(b, texts, 1, Math.min(40, opts.batches * 4), `b1${salt}`));
    f.batch64.push(await inferenceLatency(b, texts, opts.batchSize, opts.batches, `b64${salt}`));
  } finally {
    await b.close();
  }
}

/**
 * Every path of the active model of fresh browsers (`setup` activates the model). Each run measures
 * the default path (`ts`: the n-gram model in the service worker) and onnxruntime-web's WASM in
 * turn, alternating which goes first so that a change in the machine's load hits both alike.
 */
async function measure(
  label: string,
  texts: string[],
  opts: { setup?: (b: ExtensionBrowser) => Promise<void>; ts: boolean; batchSize: number; batches: number; pageComments: number; webgpuBatch: number; webgpuBatches: number },
): Promise<ModelFigures> {
  const figures: ModelFigures = { ts: opts.ts ? emptyPath() : null, wasm: emptyPath(), webgpu: { load_ms: [], batch64: [], execution: [] } };
  for (let run = 0; run < RUNS; run++) {
    const order: Array<'auto' | 'wasm'> = !opts.ts ? ['wasm'] : run % 2 === 0 ? ['auto', 'wasm'] : ['wasm', 'auto'];
    for (const execution of order) await measurePath(execution === 'auto' ? figures.ts! : figures.wasm, execution, run, texts, opts);
    const g = await launchWithExtension({ args: WEBGPU });
    try {
      await g.background('update-settings', { execution: 'webgpu' });
      await opts.setup?.(g);
      const first = await g.background<Scored>('score', { video_id: null, comments: [{ id: '0', text: `warm up ${run}` }] });
      figures.webgpu.execution.push(first.execution);
      figures.webgpu.load_ms.push((await g.background<{ model_load_ms: number | null }>('get-status')).model_load_ms);
      figures.webgpu.batch64.push(await inferenceLatency(g, texts, opts.webgpuBatch, opts.webgpuBatches, `gr${run}`));
    } finally {
      await g.close();
    }
    console.error(`${label}: run ${run + 1}/${RUNS} done`);
  }
  return figures;
}

/** Medians over runs of each figure. */
function med<T extends { [K in keyof T]: number }>(xs: readonly T[]): T {
  const out: Record<string, number> = {};
  for (const k of Object.keys(xs[0] ?? {}) as Array<keyof T & string>) out[k] = median(xs.map((x) => x[k]));
  return out as T;
}
const medianOrNull = (xs: Array<number | null>): number | null => (xs.some((x) => x === null) ? null : median(xs as number[]));

const PATH_BLOCKS = Number(process.env.BENCH_PATH_BLOCKS ?? 4);

/**
 * The n-gram model's two paths warm, in one browser, in alternating blocks (the service worker's
 * forward pass, then onnxruntime-web WASM offscreen, PATH_BLOCKS times each), so that both see the
 * same browser and the same load on the machine: batches of 64 and of 1, fresh texts.
 */
async function comparePaths(texts: string[]): Promise<Record<'ts' | 'wasm', { batch_1: Latency[]; batch_n: Latency[]; execution: Array<string | null> }>> {
  const out = {
    ts: { batch_1: [] as Latency[], batch_n: [] as Latency[], execution: [] as Array<string | null> },
    wasm: { batch_1: [] as Latency[], batch_n: [] as Latency[], execution: [] as Array<string | null> },
  };
  const b = await launchWithExtension();
  try {
    for (let block = 0; block < PATH_BLOCKS; block++) {
      for (const path of ['ts', 'wasm'] as const) {
        await b.background('update-settings', { execution: path === 'ts' ? 'auto' : 'wasm' });
        // Loaded (and, offscreen, the document created) before anything is timed.
        const warm = await b.background<Scored>('score', { video_id: null, comments: [{ id: '0', text: `warm ${path} ${block}` }] });
        out[path].execution.push(warm.execution);
        out[path].batch_n.push(await inferenceLatency(b, texts, 64, 10, `cmp${path}${block}n`));
        out[path].batch_1.push(await inferenceLatency(b, texts, 1, 20, `cmp${path}${block}o`));
      }
    }
  } finally {
    await b.close();
  }
  return out;
}

const r1 = (x: number) => Number(x.toFixed(1));

async function main(): Promise<void> {
  const loadStart = os.loadavg();
  execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], { cwd: REPO_ROOT, stdio: 'inherit' });
  // The benchmark measures the local build (backend on 127.0.0.1): only its size matters here.
  const zip = packageExtension(join(REPO_ROOT, 'dist', 'extension'), join(REPO_ROOT, 'dist'), { allowDevBackend: true });
  const modelVersion = readdirSync(join(REPO_ROOT, 'dist', 'extension', 'models'))[0] ?? '?';
  const texts = PARTS.has('inference') || PARTS.has('transformer') ? youtubeTexts() : [];

  const ngram = PARTS.has('inference')
    ? await measure(`n-gram ${modelVersion}`, texts, { ts: true, batchSize: 64, batches: 20, pageComments: PAGE_COMMENTS, webgpuBatch: 64, webgpuBatches: 10 })
    : null;
  const paths = PARTS.has('inference') ? await comparePaths(texts) : null;

  let scale: ScaleFigures | null = null;
  if (PARTS.has('scale')) scale = await measureScale();

  let coldRuns: ColdRun[] | null = null;
  if (PARTS.has('cold')) {
    coldRuns = [];
    for (let run = 0; run < COLD_RUNS; run++) coldRuns.push(await coldFirstBadge(run));
    console.error(`cold: ${coldRuns.map((x) => x.ms.toFixed(0)).join(', ')} ms`);
  }
  const cold = coldRuns?.map((x) => x.ms) ?? null;

  let transformer: ModelFigures | null = null;
  let transformerBytes = 0;
  if (PARTS.has('transformer')) {
    // The transformer: DistilBERT dimensions, int8, random weights, served by a local registry.
    const dir = join(REPO_ROOT, '.cache', 'bench', 'distilbert');
    if (!existsSync(join(dir, 'manifest.json'))) {
      mkdirSync(dir, { recursive: true });
      await writeTransformerBundle(dir, { preset: 'distilbert', version: '9.0.0-distilbert', name: 'distilbert-sized-random' });
    }
    transformerBytes = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).files.reduce((a: number, f: { bytes: number }) => a + f.bytes, 0) as number;
    // The extension installs only models signed with a key its build pins: a throwaway key for this
    // run, pinned by a build made now (after the zip above, which must pin only the committed keys),
    // as the end-to-end tests do (tests/e2e/global-setup.ts).
    const keyDir = mkdtempSync(join(os.tmpdir(), 'ytsent-bench-release-key-'));
    let backend: Awaited<ReturnType<typeof startBackend>> | null = null;
    try {
      const key = await generateReleaseKey();
      writeFileSync(join(keyDir, 'release-key.json'), JSON.stringify(key), { mode: 0o600 });
      process.env[RELEASE_KEY_FILE_ENV] = join(keyDir, 'release-key.json');
      execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules/vite/bin/vite.js'), 'build', '--logLevel', 'warn'], {
        cwd: REPO_ROOT,
        stdio: 'inherit',
        env: { ...process.env, YTSENT_EXTRA_RELEASE_KEYS: key.public_key },
      });
      const served = (backend = await startBackend());
      await served.publish(dir);
      const activate = async (b: ExtensionBrowser) => {
        await b.background('update-settings', { backend_url: served.url });
        const r = await b.background<{ status: string; detail?: string }>('check-updates');
        if (r.status !== 'updated') throw new Error(`transformer not activated: ${r.status} ${r.detail ?? ''}`);
      };
      // On SwiftShader (no GPU here) a DistilBERT-sized graph takes minutes per batch: measure single texts.
      transformer = await measure('distilbert-sized', texts, { setup: activate, ts: false, batchSize: 16, batches: 4, pageComments: TRANSFORMER_PAGE_COMMENTS, webgpuBatch: 1, webgpuBatches: 2 });
    } finally {
      await backend?.close();
      rmSync(keyDir, { recursive: true, force: true });
    }
  }

  const summarizePath = (f: PathFigures) => ({
    execution: f.execution,
    load_ms: medianOrNull(f.load_ms),
    batch_1: med(f.batch1),
    batch_n: med(f.batch64),
    comment_to_badge_ms: { cold: med(f.badge.cold), warm: med(f.badge.warm), cached: med(f.badge.cached) },
  });
  const summarize = (f: ModelFigures) => {
    const wasm = summarizePath(f.wasm);
    const ts = f.ts && summarizePath(f.ts);
    return {
      // The default path: what a user gets without touching the settings.
      default_path: ts ? 'ts' : 'wasm',
      ...(ts ? { ts } : {}),
      wasm,
      webgpu: { load_ms: medianOrNull(f.webgpu.load_ms), batch_n: med(f.webgpu.batch64), execution: f.webgpu.execution },
      comment_to_badge_ms: (ts ?? wasm).comment_to_badge_ms,
      runs: f,
    };
  };
  const medLong = (xs: LongTasks[]): LongTasks => ({ count: median(xs.map((x) => x.count)), total_ms: median(xs.map((x) => x.total_ms)), max_ms: median(xs.map((x) => x.max_ms)) });
  const scaleSummary = scale && {
    comments: SCALE_COMMENTS,
    runs: SCALE_RUNS,
    arrival: {
      without_extension: {
        long_tasks: medLong(scale.without_extension.map((x) => x.long_tasks)),
        insertion_ms: median(scale.without_extension.map((x) => x.insertion_ms)),
        insertion_to_next_task_ms: median(scale.without_extension.map((x) => x.insertion_to_next_task_ms)),
        arrival_ms: median(scale.without_extension.map((x) => x.arrival_ms)),
      },
      with_extension: {
        long_tasks: medLong(scale.with_extension.map((x) => x.long_tasks)),
        // The worst run for the worst long task: the budget is on every run.
        max_long_task_ms_worst_run: Math.max(...scale.with_extension.map((x) => x.long_tasks.max_ms)),
        insertion_ms: median(scale.with_extension.map((x) => x.insertion_ms)),
        insertion_to_next_task_ms: median(scale.with_extension.map((x) => x.insertion_to_next_task_ms)),
        arrival_ms: median(scale.with_extension.map((x) => x.arrival_ms)),
        badged_within_1s: median(scale.with_extension.map((x) => x.badged_within_1s!)),
        p99_after_last_ms: median(scale.with_extension.map((x) => x.p99_after_last_ms!)),
      },
    },
    bulk: {
      all_badged_ms: median(scale.bulk.map((x) => x.all_badged_ms)),
      long_tasks: medLong(scale.bulk.map((x) => x.long_tasks)),
      long_tasks_without_extension: medLong(scale.bulk_without_extension),
    },
    reload: {
      first_visit_ms: median(scale.reload.map((x) => x.first_ms)),
      reload_ms: median(scale.reload.map((x) => x.reload_ms)),
      first_visit_p50: median(scale.reload.map((x) => x.first_p50)),
      reload_p50: median(scale.reload.map((x) => x.reload_p50)),
    },
    raw: scale,
  };
  const host = machine();
  const results = {
    machine: { ...host, browser: execFileSync('/usr/bin/chromium', ['--version']).toString().trim() },
    runs: RUNS,
    parts: [...PARTS],
    load_average: { start: loadStart, end: os.loadavg() },
    ...(ngram ? { ngram: { model: `${modelVersion} (bundled)`, batch_n: 64, page_comments: PAGE_COMMENTS, ...summarize(ngram) } } : {}),
    ...(paths
      ? {
          paths_same_browser: {
            blocks: PATH_BLOCKS,
            ts: { batch_1: med(paths.ts.batch_1), batch_n: med(paths.ts.batch_n), execution: paths.ts.execution },
            wasm: { batch_1: med(paths.wasm.batch_1), batch_n: med(paths.wasm.batch_n), execution: paths.wasm.execution },
            raw: paths,
          },
        }
      : {}),
    ...(transformer
      ? { transformer: { model: 'DistilBERT dimensions, int8, random weights', bundle_bytes: transformerBytes, batch_n: 16, page_comments: TRANSFORMER_PAGE_COMMENTS, ...summarize(transformer) } }
      : {}),
    ...(scaleSummary ? { scale: scaleSummary } : {}),
    ...(cold ? { cold_first_badge_ms: { p50: median(cold), p95: percentile(cold, 95), runs: cold, details: coldRuns } } : {}),
    zip: { path: zip.path.replace(`${REPO_ROOT}/`, ''), bytes: zip.bytes, budget_bytes: MAX_ZIP_BYTES },
  };

  const budgets: Array<[string, string, boolean]> = [];
  if (results.ngram) budgets.push(['warm p95 comment-to-badge ≤ 100 ms (n-gram)', `${r1(results.ngram.comment_to_badge_ms.warm.p95)} ms`, results.ngram.comment_to_badge_ms.warm.p95 <= 100]);
  if (scaleSummary) {
    const w = scaleSummary.arrival.with_extension;
    const wo = scaleSummary.arrival.without_extension;
    budgets.push(
      ['arrival: no long task over 100 ms (worst run)', `${r1(w.max_long_task_ms_worst_run)} ms`, w.max_long_task_ms_worst_run <= 100],
      [
        'arrival: long-task total ≤ 2× the page alone + 0.5 s',
        `${r1(w.long_tasks.total_ms)} ms vs ${r1(2 * wo.long_tasks.total_ms + 500)} ms`,
        w.long_tasks.total_ms <= 2 * wo.long_tasks.total_ms + 500,
      ],
      [
        'arrival: the page’s insertion time ≤ 1.3× the page alone',
        `${r1(w.insertion_ms)} ms vs ${r1(wo.insertion_ms)} ms (${(w.insertion_ms / wo.insertion_ms).toFixed(2)}×)`,
        w.insertion_ms <= 1.3 * wo.insertion_ms,
      ],
      ['arrival: ≥ 99% of comments badged within 1 s of the last batch', `${(w.badged_within_1s * 100).toFixed(1)}%`, w.badged_within_1s >= 0.99],
      [`${SCALE_COMMENTS.toLocaleString('en-US')} comments appended at once badged in ≤ 2 s`, `${r1(scaleSummary.bulk.all_badged_ms)} ms`, scaleSummary.bulk.all_badged_ms <= 2000],
      [
        'a reload of a scored video is badged faster than its first visit',
        `${r1(scaleSummary.reload.reload_ms)} ms vs ${r1(scaleSummary.reload.first_visit_ms)} ms`,
        scaleSummary.reload.reload_ms < scaleSummary.reload.first_visit_ms,
      ],
    );
  }
  if (results.cold_first_badge_ms) budgets.push(['cold comment-to-first-badge p50 ≤ 400 ms', `${r1(results.cold_first_badge_ms.p50)} ms`, results.cold_first_badge_ms.p50 <= 400]);
  budgets.push(['packaged zip ≤ 15 MB', `${(results.zip.bytes / 1024 / 1024).toFixed(2)} MB`, results.zip.bytes <= MAX_ZIP_BYTES]);

  type Summary = ReturnType<typeof summarize>;
  type PathSummary = ReturnType<typeof summarizePath>;
  const pathRow = (name: string, where: string, p: PathSummary, n: number) => [
    name,
    where,
    p.load_ms === null ? '' : r1(p.load_ms),
    `${r1(p.batch_1.p50)} / ${r1(p.batch_1.p95)}`,
    `${r1(p.batch_n.p50)} / ${r1(p.batch_n.p95)} (n=${n})`,
    Math.round(p.batch_n.per_s),
    r1(p.batch_n.call_p50),
    Math.round(p.batch_n.call_per_s),
  ];
  const inferenceRows = (name: string, s: Summary, n: number) => [
    ...(s.ts ? [pathRow(name, 'service worker, TypeScript (default)', s.ts, n)] : []),
    pathRow(name, `offscreen, onnxruntime-web WASM${s.ts ? '' : ' (default)'}`, s.wasm, n),
    [
      name,
      `offscreen, onnxruntime-web WebGPU (${s.webgpu.execution[0] ?? '?'})`,
      s.webgpu.load_ms === null ? '' : r1(s.webgpu.load_ms),
      '',
      `${r1(s.webgpu.batch_n.p50)} / ${r1(s.webgpu.batch_n.p95)} (n=${n === 16 ? 1 : n})`,
      Math.round(s.webgpu.batch_n.per_s),
      r1(s.webgpu.batch_n.call_p50),
      Math.round(s.webgpu.batch_n.call_per_s),
    ],
  ];
  const badgeRow = (name: string, p: PathSummary, comments: number) => [
    `${name} (${comments} comments)`,
    `${r1(p.comment_to_badge_ms.cold.p50)} / ${r1(p.comment_to_badge_ms.cold.p95)}`,
    `${r1(p.comment_to_badge_ms.warm.p50)} / ${r1(p.comment_to_badge_ms.warm.p95)}`,
    `${r1(p.comment_to_badge_ms.cached.p50)} / ${r1(p.comment_to_badge_ms.cached.p95)}`,
  ];
  const md: string[] = [
    `# Extension benchmark (${new Date().toISOString().slice(0, 10)})`,
    '',
    `${results.machine.browser}, headless, ${String(host.cpu)} (${String(host.cores)} cores), no GPU: WebGPU is Chromium's SwiftShader adapter (--enable-unsafe-webgpu), i.e. the CPU.`,
    `Bundled model ${modelVersion}. Each browser is a fresh profile. Parts measured: ${[...PARTS].join(', ')}. Load average (1 min) ${loadStart[0]!.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end (2 cores).`,
  ];
  if (results.ngram || results.transformer) {
    const rows = [
      ...(results.ngram ? inferenceRows(`ytsent n-gram ${modelVersion}`, results.ngram, 64) : []),
      ...(results.transformer ? inferenceRows(`DistilBERT-sized int8 (${(transformerBytes / 1e6).toFixed(0)} MB)`, results.transformer, 16) : []),
    ];
    const badgeRows = [
      ...(results.ngram?.ts ? [badgeRow('ytsent n-gram, service worker (default)', results.ngram.ts, PAGE_COMMENTS)] : []),
      ...(results.ngram ? [badgeRow('ytsent n-gram, offscreen WASM', results.ngram.wasm, PAGE_COMMENTS)] : []),
      ...(results.transformer ? [badgeRow('DistilBERT-sized, offscreen WASM', results.transformer.wasm, TRANSFORMER_PAGE_COMMENTS)] : []),
    ];
    md.push(
      '',
      `## Inference where the model runs (ms per batch, p50 / p95; medians of ${RUNS} runs)`,
      '',
      'Fresh texts in each batch (no cache hits). "In the scorer": the time the scorer reports (featurization, language identification and the model; onnxruntime-web with one thread). "Round trip": from an extension page sending the request to its reply (messages to the service worker, and from it to the offscreen document and back where the model runs there). Load: reading and verifying the files to a model ready to score, in a fresh browser.',
      '',
      table(['model', 'runs in', 'load ms', 'batch 1', 'batch n', 'comments/s in the scorer', 'round trip batch n, p50 ms', 'comments/s, round trip'], rows),
      ...(results.paths_same_browser
        ? (() => {
            const c = results.paths_same_browser;
            const cmpRow = (where: string, x: typeof c.ts) => [
              where,
              `${r1(x.batch_1.p50)} / ${r1(x.batch_1.call_p50)}`,
              `${r1(x.batch_n.p50)} / ${r1(x.batch_n.call_p50)}`,
              Math.round(x.batch_n.per_s),
              Math.round(x.batch_n.call_per_s),
            ];
            return [
              '',
              `The n-gram model's two paths warm in one browser, in alternating blocks (${c.blocks} each; medians over blocks), so both see the same load:`,
              '',
              table(
                ['runs in', 'batch 1: in the scorer / round trip, p50 ms', 'batch 64: in the scorer / round trip, p50 ms', 'comments/s in the scorer', 'comments/s, round trip'],
                [cmpRow('service worker, TypeScript', c.ts), cmpRow('offscreen, onnxruntime-web WASM', c.wasm)],
              ),
            ];
          })()
        : []),
      '',
      '## Comment entering the DOM → its badge (ms, p50 / p95)',
      '',
      'Comments arrive 20 at a time every 50 ms (as when scrolling). Cold: fresh browser, model not loaded, empty cache. Warm: model loaded, new comments. Cached: the warm page reloaded. Each path in its own fresh browser.',
      '',
      table(['model', 'cold', 'warm', 'cached'], badgeRows),
    );
  }
  if (scaleSummary) {
    const w = scaleSummary.arrival.with_extension;
    const wo = scaleSummary.arrival.without_extension;
    const lt = (x: LongTasks) => `${x.count} / ${r1(x.total_ms)} / ${r1(x.max_ms)}`;
    md.push(
      '',
      `## A long comment section (medians of ${SCALE_RUNS} runs)`,
      '',
      `${SCALE_COMMENTS.toLocaleString('en-US')} comments arrive 20 every 50 ms on the same fixture page, in a browser without the extension and one with it (model loaded beforehand, every text new). Long tasks are the page's main thread (the content script runs there).`,
      '',
      "- insertion: for each batch, the page's task that inserts it, to the end of its microtasks (where mutation observers, ours included, run), summed;",
      '- to next task: for each batch, until the page can run its next task (our own tasks and the frames that render badges in between count too), summed;',
      '- arrival: wall time of the 100 insertions, 50 ms apart at best.',
      '',
      table(
        ['page', 'long tasks: count / total ms / max ms', 'insertion ms', 'to next task ms', 'arrival ms', 'badged ≤ 1 s after last batch', '99% badged after last batch'],
        [
          ['without the extension', lt(wo.long_tasks), r1(wo.insertion_ms), r1(wo.insertion_to_next_task_ms), r1(wo.arrival_ms), '', ''],
          ['with the extension', lt(w.long_tasks), r1(w.insertion_ms), r1(w.insertion_to_next_task_ms), r1(w.arrival_ms), `${(w.badged_within_1s * 100).toFixed(1)}%`, `${r1(w.p99_after_last_ms)} ms`],
        ],
      ),
      '',
      table(
        ['scenario', 'result'],
        [
          [
            `${SCALE_COMMENTS.toLocaleString('en-US')} new comments appended at once: all badged after`,
            `${r1(scaleSummary.bulk.all_badged_ms)} ms (long tasks ${lt(scaleSummary.bulk.long_tasks)}; the page alone: ${lt(scaleSummary.bulk.long_tasks_without_extension)})`,
          ],
          [
            `${RELOAD_COMMENTS} comments arriving at once on a loaded page, first visit (model loaded): comments → last badge`,
            `${r1(scaleSummary.reload.first_visit_ms)} ms (comment → badge p50 ${r1(scaleSummary.reload.first_visit_p50)} ms)`,
          ],
          ['the same video reloaded (results cached): comments → last badge', `${r1(scaleSummary.reload.reload_ms)} ms (comment → badge p50 ${r1(scaleSummary.reload.reload_p50)} ms)`],
        ],
      ),
    );
  }
  if (results.cold_first_badge_ms) {
    md.push(
      '',
      '## Cold start',
      '',
      `A fresh browser profile opens a video (default settings): from its first comment entering the DOM to the first badge, ${COLD_RUNS} runs. p50 ${r1(results.cold_first_badge_ms.p50)} ms, p95 ${r1(results.cold_first_badge_ms.p95)} ms (runs: ${results.cold_first_badge_ms.runs.map((x) => Math.round(x)).join(', ')} ms). The model ran in: ${[...new Set(coldRuns!.map((x) => x.execution ?? 'nothing'))].join(', ')}; offscreen documents once the first badge showed: ${coldRuns!.map((x) => x.offscreen_documents).join(', ')}; the service worker's model load (files, sha256, weights, golden examples): median ${r1(medianOrNull(coldRuns!.map((x) => x.model_load_ms)) ?? NaN)} ms.`,
    );
  }
  md.push(
    '',
    `Packaged zip: ${(results.zip.bytes / 1024 / 1024).toFixed(2)} MB (${results.zip.bytes.toLocaleString('en-US')} bytes).`,
    '',
    '## Budgets',
    '',
    table(
      ['budget', 'measured', 'met'],
      budgets.map(([n, v, ok]) => [n, v, ok ? 'yes' : 'NO']),
    ),
    '',
    NOTES,
  );
  writeResults('extension', { ...results, budgets: budgets.map(([name, value, ok]) => ({ name, value, ok })) }, md.join('\n'));
  console.log(md.join('\n'));
}

await main();
