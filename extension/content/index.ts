/**
 * Content script for www.youtube.com: finds comments (top-level, replies, lazily loaded, after SPA
 * navigation), asks the service worker to score them on this device, and shows badges and the
 * summary bar.
 *
 * Work is proportional to what changed, never to the size of the page: a MutationObserver hands
 * over the comments that were added or removed and the comments whose text changed (child nodes
 * or a text node edited in place); only those are read again. Summary counts are kept
 * incrementally. Scoring requests are pipelined (several batches in flight; the service worker
 * answers cache hits without the model) and large arrivals are read in time-boxed slices, so no
 * single task of ours blocks the page for long.
 */
import type { Label } from '../../core/labels.js';
import { languageName } from '../../core/langid.js';
import { MESSAGE_LIMITS, truncateUtf8 } from '../lib/limits.js';
import { LOCAL_KEYS, getLocal } from '../lib/storage-keys.js';
import type { ScoredResult, ScoreResponse, VideoSummary } from '../lib/messages.js';
import { send } from '../lib/send.js';
import { Badge, SummaryBar, type BadgeState, type Filter, type SummaryCounts } from './ui.js';
import * as yt from './youtube-dom.js';

interface Result {
  label: Label;
  score: number;
  probs: [number, number, number];
  lang: string;
  supported: boolean;
  low: boolean;
}

interface Tracked {
  text: string;
  /** Bumped whenever the text changes: a reply for an older text is dropped. */
  gen: number;
  reply: boolean;
  /** The thread the comment was in when tracked (a removed reply still updates its thread). */
  thread: HTMLElement | null;
  badge: Badge | null;
  result?: Result;
  /** The user's correction, which replaces the label. */
  corrected?: Label;
}

/**
 * Largest batch per message: big enough to amortise messaging, small enough to badge quickly
 * (and within what the service worker accepts).
 */
const MAX_BATCH = Math.min(100, MESSAGE_LIMITS.comments_per_request);
/** Batches in flight at once: messaging and cache lookups of one overlap the inference of another. */
const MAX_IN_FLIGHT = 4;
/** Longest slice of reading comments before yielding to the page (ms). */
const SLICE_MS = 8;
/**
 * When the page is struggling, badges go into it at most every APPLY_INTERVAL_MS, at most
 * APPLY_CHUNK per frame, and scoring requests leave at most every SEND_INTERVAL_MS unless a full
 * batch is ready. Every insertion into a long comment list costs the page a frame (style, layout,
 * pre-paint and paint of the list: 10 to 25 ms of CPU at 2,000 fixture comments, nearly whatever
 * was inserted), and every message a fixed cost in the page, the service worker and the browser;
 * comments arriving 20 every 50 ms are then badged a few batches at a time.
 *
 * "Struggling": the page has VERY_LONG_PAGE comments or more (every frame is expensive there), or
 * LONG_PAGE or more and had a long task (main thread busy over 50 ms) in the last BUSY_MS.
 * Otherwise, and on any page while comments arrive more slowly than the intervals (YouTube loads
 * about 20 per request), every reply is shown at once.
 */
const APPLY_INTERVAL_MS = 300;
const APPLY_CHUNK = 200;
const SEND_INTERVAL_MS = 150;
const LONG_PAGE = 200;
const VERY_LONG_PAGE = 1000;
const BUSY_MS = 3000;

/** When the page's main thread last ran a long task (performance.now()); -Infinity if never seen. */
let lastLongTask = -Infinity;
let longTasksObservable = false;
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) lastLongTask = Math.max(lastLongTask, e.startTime + e.duration);
  }).observe({ type: 'longtask', buffered: true });
  longTasksObservable = true;
} catch {
  // No long-task timing here: long pages are then always treated as struggling.
}

/** Runs `fn` in a new task soon (a message to ourselves: no 4 ms timer clamping). */
const channel = new MessageChannel();
const queued: Array<() => void> = [];
channel.port1.onmessage = () => queued.shift()?.();
function nextTask(fn: () => void): void {
  queued.push(fn);
  channel.port2.postMessage(null);
}

/** Calls `fn` in the task after the next rendered frame. */
function afterNextFrame(fn: () => void): void {
  requestAnimationFrame(() => nextTask(fn));
}

const zeroCounts = (): SummaryCounts => ({ negative: 0, neutral: 0, positive: 0, other_languages: 0, low_confidence: 0 });

class CommentScorer {
  private tracked = new Map<HTMLElement, Tracked>();
  /** Comments detached from the page, kept so a comment YouTube moves does not need rescoring. */
  private detached = new WeakMap<HTMLElement, Tracked>();
  private videoId: string | null = yt.videoIdFromUrl(location.href);
  private summary: SummaryBar | null = null;
  private filter: Filter = 'all';
  private modelVersion: string | null = null;
  private lowThreshold = 0.5;
  private counts: SummaryCounts = zeroCounts();
  /** Comments to read (again): added, or their text changed. */
  private readonly dirty = new Set<HTMLElement>();
  /** Tracked comments to send for scoring. */
  private readonly pending = new Set<HTMLElement>();
  /** Elements the filter hid, to show again. */
  private readonly hidden = new Set<HTMLElement>();
  private inFlight = 0;
  private hadError = false;
  /** Scored comments waiting to be shown (see scheduleApply). */
  private ready: Array<{ el: HTMLElement; gen: number; result: ScoredResult }> = [];
  private applyTimer: ReturnType<typeof setTimeout> | null = null;
  private lastApply = -Infinity;
  private lastSend = -Infinity;
  private sendTimer: ReturnType<typeof setTimeout> | null = null;
  private readScheduled = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private showBadges = true;
  private dark = yt.isDarkTheme(document);
  private warmed = false;

  start(): void {
    new MutationObserver((records) => this.onMutations(records)).observe(document.documentElement, { childList: true, subtree: true, characterData: true });
    // YouTube switches theme by toggling <html dark>.
    new MutationObserver(() => this.applyTheme()).observe(document.documentElement, { attributes: true, attributeFilter: ['dark'] });
    document.addEventListener(yt.NAVIGATE_EVENT, () => this.onNavigate());
    chrome.storage.onChanged.addListener((changes) => {
      const settings = changes[LOCAL_KEYS.settings]?.newValue as { show_badges?: boolean } | undefined;
      if (settings && settings.show_badges !== undefined) this.setBadgesVisible(settings.show_badges);
    });
    void getLocal(LOCAL_KEYS.settings).then((s) => this.setBadgesVisible((s as { show_badges?: boolean } | undefined)?.show_badges ?? true));
    chrome.runtime.onMessage.addListener((message: { target?: string; type?: string }, _sender, sendResponse) => {
      if (message?.target !== 'content' || message.type !== 'get-video-summary') return false;
      sendResponse({ ok: true, data: this.videoSummary() });
      return false;
    });
    this.warmUp();
    this.scanAll();
  }

  /** On a video page, have the model loaded before the comments arrive (they load lazily). */
  private warmUp(): void {
    if (this.warmed || !this.videoId) return;
    this.warmed = true;
    send({ target: 'background', type: 'warm-up' }).catch(() => {
      this.warmed = false; // the first scoring request loads it anyway
    });
  }

  /** The whole page, once: at start and after navigating to another video. */
  private scanAll(): void {
    if (!this.videoId) return;
    for (const el of yt.findComments(document)) this.dirty.add(el);
    this.ensureSummary();
    this.scheduleRead();
  }

  private onMutations(records: MutationRecord[]): void {
    if (!this.videoId) return;
    let removed: Set<HTMLElement> | null = null;
    for (const r of records) {
      if (r.type === 'characterData') {
        // A text node edited in place.
        const c = yt.commentOfTextNode(r.target);
        if (c) this.dirty.add(c);
        continue;
      }
      let own = true;
      for (const n of r.addedNodes) {
        if (yt.isOwnElement(n)) continue;
        own = false;
        for (const c of yt.commentsIn(n)) this.dirty.add(yt.outermostComment(c) ?? c);
      }
      for (const n of r.removedNodes) {
        if (yt.isOwnElement(n)) continue;
        own = false;
        if (this.tracked.size === 0) continue;
        for (const c of yt.commentsIn(n)) if (this.tracked.has(c)) (removed ??= new Set()).add(c);
      }
      // Nodes added to or removed from inside a comment (its text rendered, replaced or edited).
      if (!own && r.target.nodeType === 1) {
        const c = yt.outermostComment(r.target as Element);
        if (c) this.dirty.add(c);
      }
    }
    if (removed) this.onRemoved(removed);
    if (this.dirty.size > 0) {
      this.ensureSummary();
      this.scheduleRead();
    }
  }

  /** Comments taken out of the page: uncounted at once (kept aside in case they come back). */
  private onRemoved(removed: Set<HTMLElement>): void {
    let changed = false;
    for (const el of removed) {
      if (el.isConnected) {
        this.dirty.add(el); // moved, not removed
        continue;
      }
      const t = this.tracked.get(el);
      if (!t) continue;
      this.count(t, -1);
      this.tracked.delete(el);
      this.pending.delete(el);
      this.detached.set(el, t);
      if (t.thread?.isConnected) this.refilterThread(t.thread);
      changed = true;
    }
    if (changed) this.updateSummary();
  }

  private scheduleRead(): void {
    if (this.readScheduled) return;
    this.readScheduled = true;
    // In a task of our own, right after the page's: the page's task that inserted the comments
    // stays as short as it was, and what it inserted in several steps is read once.
    nextTask(() => this.readDirty());
  }

  /** Reads the text of dirty comments, a time-boxed slice at a time, and queues what is new. */
  private readDirty(): void {
    this.readScheduled = false;
    const started = performance.now();
    let n = 0;
    for (const el of this.dirty) {
      this.dirty.delete(el);
      this.read(el);
      // Check the clock every 16 comments: reading one costs microseconds.
      if (++n % 16 === 0 && performance.now() - started > SLICE_MS) break;
    }
    this.flush();
    if (this.dirty.size > 0) {
      this.readScheduled = true;
      nextTask(() => this.readDirty());
    }
  }

  private read(el: HTMLElement): void {
    if (!el.isConnected) return;
    const known = this.tracked.get(el);
    const text = yt.commentText(el);
    if (!text) return; // not rendered yet (a later mutation brings the text), or emptied
    if (known) {
      if (known.text === text) return;
      // Edited in place, or an element YouTube recycled for another comment: score again.
      this.count(known, -1);
      known.text = text;
      known.gen++;
      known.result = undefined;
      known.corrected = undefined;
      known.thread = yt.threadOf(el);
      known.reply = yt.isReply(el);
      this.pending.add(el);
      return;
    }
    const back = this.detached.get(el);
    if (back && back.text === text) {
      // The same comment put back: keep its score and badge.
      this.detached.delete(el);
      back.thread = yt.threadOf(el);
      back.reply = yt.isReply(el);
      this.tracked.set(el, back);
      if (back.result) {
        this.count(back, +1);
        this.placeBadge(el, back);
        this.refilter(el, back);
        this.updateSummary();
      } else this.pending.add(el);
      return;
    }
    back?.badge?.host.remove();
    this.tracked.set(el, { text, gen: 0, badge: null, reply: yt.isReply(el), thread: yt.threadOf(el) });
    this.pending.add(el);
  }

  /** See APPLY_INTERVAL_MS. */
  private struggling(): boolean {
    if (this.tracked.size < LONG_PAGE) return false;
    if (this.tracked.size >= VERY_LONG_PAGE || !longTasksObservable) return true;
    return performance.now() - lastLongTask < BUSY_MS;
  }

  /** Sends pending comments in batches, up to MAX_IN_FLIGHT at once (see SEND_INTERVAL_MS). */
  private flush(): void {
    if (this.pending.size === 0 || this.retryTimer) return;
    const wait = this.struggling() ? this.lastSend + SEND_INTERVAL_MS - performance.now() : 0;
    if (wait > 0 && this.pending.size < MAX_BATCH) {
      this.sendTimer ??= setTimeout(() => {
        this.sendTimer = null;
        this.lastSend = -Infinity;
        this.flush();
      }, wait);
      return;
    }
    this.lastSend = performance.now();
    while (this.pending.size > 0 && this.inFlight < MAX_IN_FLIGHT) {
      const batch: Array<{ el: HTMLElement; gen: number; text: string }> = [];
      for (const el of this.pending) {
        this.pending.delete(el);
        const t = this.tracked.get(el);
        if (t) batch.push({ el, gen: t.gen, text: t.text });
        if (batch.length === MAX_BATCH) break;
      }
      if (batch.length === 0) return;
      this.inFlight++;
      void this.sendBatch(batch).finally(() => {
        this.inFlight--;
        this.flush();
      });
    }
  }

  private async sendBatch(batch: Array<{ el: HTMLElement; gen: number; text: string }>): Promise<void> {
    const videoId = this.videoId;
    let response: ScoreResponse;
    try {
      response = await send<ScoreResponse>({
        target: 'background',
        type: 'score',
        // Within the service worker's limits (lib/limits.ts): it refuses longer texts outright.
        data: { video_id: videoId, comments: batch.map((b, i) => ({ id: String(i), text: truncateUtf8(b.text) })) },
      });
    } catch (err) {
      // The service worker or the model is unavailable: keep the comments pending and retry.
      for (const b of batch) if (this.tracked.get(b.el)?.gen === b.gen) this.pending.add(b.el);
      this.summary?.setStatus(`Scoring unavailable: ${(err as Error).message}`, true);
      this.hadError = true;
      this.retryLater();
      return;
    }
    if (videoId !== this.videoId) return; // navigated away meanwhile
    this.modelVersion = response.model_version;
    this.lowThreshold = response.low_confidence_threshold;
    if (this.hadError) {
      this.hadError = false;
      this.summary?.setStatus('');
    }
    for (const r of response.results) this.ready.push({ ...batch[Number(r.id)]!, result: r });
    this.scheduleApply();
  }

  /**
   * Shows replies: at once when nothing was shown in the last APPLY_INTERVAL_MS, else at the end of
   * that interval, together with whatever else arrived; at most APPLY_CHUNK per task.
   */
  private scheduleApply(): void {
    if (this.applyTimer !== null || this.ready.length === 0) return;
    const wait = this.struggling() ? this.lastApply + APPLY_INTERVAL_MS - performance.now() : 0;
    if (wait <= 0) this.applyReady();
    else this.applyTimer = setTimeout(() => this.applyReady(), wait);
  }

  private applyReady(): void {
    this.applyTimer = null;
    this.lastApply = performance.now();
    const chunk = this.ready.splice(0, APPLY_CHUNK);
    for (const { el, gen, result } of chunk) {
      const t = this.tracked.get(el);
      if (t && t.gen === gen && el.isConnected) this.apply(el, t, result);
    }
    this.updateSummary();
    if (this.ready.length > 0) {
      // The rest after the next frame: one chunk per frame, the page handling input in between
      // (and after 100 ms without frames, as in a hidden tab).
      let done = false;
      const next = (): void => {
        if (done) return;
        done = true;
        clearTimeout(fallback);
        this.applyReady();
      };
      const fallback = setTimeout(next, 100);
      this.applyTimer = fallback;
      afterNextFrame(next);
    }
  }

  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.flush();
    }, 2000);
  }

  private apply(el: HTMLElement, t: Tracked, r: ScoredResult): void {
    this.count(t, -1);
    t.result = { label: r.label, score: r.score, probs: r.probs, lang: r.lang, supported: r.supported, low: r.score < this.lowThreshold };
    this.count(t, +1);
    this.placeBadge(el, t);
    this.refilter(el, t);
  }

  private badgeState(t: Tracked): BadgeState {
    const r = t.result!;
    if (!r.supported) return { kind: 'unsupported', lang: r.lang, languageName: languageName(r.lang) };
    if (t.corrected) return { kind: 'sentiment', label: t.corrected, score: 1, corrected: true };
    return { kind: 'sentiment', label: r.label, score: r.score, low: r.low };
  }

  private placeBadge(el: HTMLElement, t: Tracked): void {
    if (!t.badge) {
      t.badge = new Badge(document, {
        onCorrect: async (corrected) => {
          const r = await send<{ queued: boolean }>({
            target: 'background',
            type: 'feedback',
            data: { video_id: this.videoId, text: truncateUtf8(t.text), predicted: t.result!.label, corrected, score: t.result!.score },
          });
          if (this.tracked.get(el) === t) this.count(t, -1);
          t.corrected = corrected;
          if (this.tracked.get(el) === t) {
            this.count(t, +1);
            this.refilter(el, t);
            this.updateSummary();
          }
          return r.queued ? 'sent' : 'queued-off';
        },
      });
      t.badge.setTheme(this.dark);
      t.badge.host.hidden = !this.showBadges;
    }
    t.badge.set(this.badgeState(t));
    const slot = yt.badgeSlot(el);
    if (slot && t.badge.host.parentElement !== slot.parent) slot.parent.insertBefore(t.badge.host, slot.before);
  }

  /** Adds (+1) or removes (-1) a scored comment's contribution to the summary counts. */
  private count(t: Tracked, sign: 1 | -1): void {
    const r = t.result;
    if (!r) return;
    if (!r.supported) {
      this.counts.other_languages += sign;
      return;
    }
    this.counts[t.corrected ?? r.label] += sign;
    if (r.low && !t.corrected) this.counts.low_confidence += sign;
  }

  private ensureSummary(): void {
    if (this.summary?.host.isConnected) return;
    const slot = yt.summarySlot(document);
    if (!slot) return;
    this.summary ??= new SummaryBar(document, (f) => this.setFilter(f));
    this.summary.setTheme(this.dark);
    slot.parent.insertBefore(this.summary.host, slot.before);
    this.updateSummary();
  }

  private updateSummary(): void {
    this.summary?.update(this.counts);
  }

  // --- Filter -------------------------------------------------------------------------------
  // A thread is shown when its comment or any of its replies matches; inside a shown thread, the
  // comments that do not match are hidden. Comments not scored yet are shown.

  /** Whether a comment passes the filter: true, false, or null while it is not scored yet. */
  private matches(t: Tracked): boolean | null {
    if (this.filter === 'all') return true;
    if (!t.result) return null;
    return t.result.supported && (t.corrected ?? t.result.label) === this.filter;
  }

  private setFilter(filter: Filter): void {
    this.filter = filter;
    const threads = new Set<HTMLElement>();
    for (const [el, t] of this.tracked) {
      if (t.thread) threads.add(t.thread);
      else this.show(el, this.matches(t) !== false);
    }
    for (const thread of threads) this.refilterThread(thread);
    if (filter === 'all') for (const el of [...this.hidden]) this.show(el, true);
  }

  private refilter(el: HTMLElement, t: Tracked): void {
    if (this.filter === 'all' && this.hidden.size === 0) return;
    if (t.thread) this.refilterThread(t.thread);
    else this.show(el, this.matches(t) !== false);
  }

  private refilterThread(thread: HTMLElement): void {
    let any = false;
    const members: Array<[HTMLElement, boolean]> = [];
    for (const el of yt.findComments(thread)) {
      const t = this.tracked.get(el);
      if (!t) continue;
      const m = this.matches(t) !== false;
      members.push([el, m]);
      any ||= m;
    }
    this.show(thread, any);
    for (const [el, m] of members) this.show(el, m || !any);
  }

  private show(el: HTMLElement, visible: boolean): void {
    if (visible) {
      if (this.hidden.delete(el)) el.style.removeProperty('display');
    } else if (!this.hidden.has(el)) {
      this.hidden.add(el);
      el.style.setProperty('display', 'none', 'important');
    }
  }

  // --- Page state -----------------------------------------------------------------------------

  private onNavigate(): void {
    const id = yt.videoIdFromUrl(location.href);
    if (id !== this.videoId) {
      this.videoId = id;
      // A new video: forget the old comments (YouTube reuses elements, so clear their badges too).
      for (const t of this.tracked.values()) t.badge?.host.remove();
      for (const el of this.hidden) el.style.removeProperty('display');
      this.hidden.clear();
      this.tracked.clear();
      this.detached = new WeakMap();
      this.pending.clear();
      this.dirty.clear();
      this.ready = [];
      this.counts = zeroCounts();
      this.summary?.host.remove();
      this.summary = null;
      this.filter = 'all';
    }
    this.warmUp();
    this.scanAll();
  }

  private applyTheme(): void {
    const dark = yt.isDarkTheme(document);
    if (dark === this.dark) return;
    this.dark = dark;
    this.summary?.setTheme(dark);
    for (const t of this.tracked.values()) t.badge?.setTheme(dark);
  }

  private setBadgesVisible(visible: boolean): void {
    this.showBadges = visible;
    for (const t of this.tracked.values()) if (t.badge) t.badge.host.hidden = !visible;
  }

  private videoSummary(): VideoSummary {
    const comments: VideoSummary['comments'] = [];
    for (const [el, t] of this.tracked) {
      const r = t.result;
      if (!r || !el.isConnected) continue;
      comments.push({
        text: t.text,
        label: t.corrected ?? r.label,
        score: t.corrected ? 1 : r.score,
        probs: r.probs,
        reply: t.reply,
        lang: r.lang,
        supported: r.supported,
        low_confidence: r.low && !t.corrected,
      });
    }
    return { video_id: this.videoId, title: yt.videoTitle(document), model_version: this.modelVersion, comments };
  }
}

new CommentScorer().start();
