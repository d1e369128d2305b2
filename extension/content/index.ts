/**
 * Content script for www.youtube.com: finds comments (top-level, replies, lazily loaded, after SPA
 * navigation), asks the service worker to score them on this device, and shows badges and the
 * summary bar. Each comment element is scored once per distinct text.
 */
import type { Label } from '../../core/labels.js';
import type { ScoreResponse, VideoSummary } from '../lib/messages.js';
import { send } from '../lib/send.js';
import { Badge, SummaryBar, type Filter } from './ui.js';
import * as yt from './youtube-dom.js';

interface Tracked {
  text: string;
  badge: Badge | null;
  label?: Label;
  score?: number;
  probs?: [number, number, number];
  reply: boolean;
}

/** Largest batch per message: big enough to amortise messaging, small enough to badge quickly. */
const MAX_BATCH = 64;

class CommentScorer {
  private tracked = new Map<HTMLElement, Tracked>();
  private videoId: string | null = yt.videoIdFromUrl(location.href);
  private summary: SummaryBar | null = null;
  private filter: Filter = 'all';
  private modelVersion: string | null = null;
  private scanScheduled = false;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private showBadges = true;
  private readonly pending = new Set<HTMLElement>();

  start(): void {
    new MutationObserver((records) => {
      for (const r of records) {
        for (const node of r.addedNodes) {
          if (yt.mayContainComments(node) || (node.parentElement && node.parentElement.closest(yt.SELECTORS.text))) {
            this.scheduleScan();
            return;
          }
        }
      }
    }).observe(document.documentElement, { childList: true, subtree: true });
    // YouTube switches theme by toggling <html dark>.
    new MutationObserver(() => this.applyTheme()).observe(document.documentElement, { attributes: true, attributeFilter: ['dark'] });
    document.addEventListener(yt.NAVIGATE_EVENT, () => this.onNavigate());
    chrome.storage.onChanged.addListener((changes) => {
      const settings = changes.settings?.newValue as { show_badges?: boolean } | undefined;
      if (settings && settings.show_badges !== undefined) this.setBadgesVisible(settings.show_badges);
    });
    void chrome.storage.local.get('settings').then((s) => this.setBadgesVisible((s.settings as { show_badges?: boolean } | undefined)?.show_badges ?? true));
    chrome.runtime.onMessage.addListener((message: { target?: string; type?: string }, _sender, sendResponse) => {
      if (message?.target !== 'content' || message.type !== 'get-video-summary') return false;
      sendResponse({ ok: true, data: this.videoSummary() });
      return false;
    });
    this.scheduleScan();
  }

  private onNavigate(): void {
    const id = yt.videoIdFromUrl(location.href);
    if (id !== this.videoId) {
      this.videoId = id;
      // A new video: forget the old comments (YouTube reuses elements, so clear their badges too).
      for (const t of this.tracked.values()) t.badge?.host.remove();
      for (const el of this.tracked.keys()) yt.filterTarget(el).style.removeProperty('display');
      this.tracked.clear();
      this.pending.clear();
      this.summary?.host.remove();
      this.summary = null;
      this.filter = 'all';
    }
    this.scheduleScan();
  }

  private scheduleScan(): void {
    if (this.scanScheduled) return;
    this.scanScheduled = true;
    // One scan per burst of mutations (YouTube adds a page of 20 threads in many steps).
    setTimeout(() => {
      this.scanScheduled = false;
      this.scan();
    }, 0);
  }

  private scan(): void {
    if (!this.videoId) return;
    for (const el of yt.findComments(document)) {
      const text = yt.commentText(el);
      if (!text) continue; // not rendered yet; a later mutation brings the text
      const known = this.tracked.get(el);
      if (known && known.text === text) continue;
      // New comment, or an element YouTube recycled for another comment.
      known?.badge?.host.remove();
      this.tracked.set(el, { text, badge: null, reply: yt.isReply(el) });
      this.pending.add(el);
    }
    this.ensureSummary();
    void this.flush();
  }

  private async flush(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending].slice(0, MAX_BATCH);
      batch.forEach((el) => this.pending.delete(el));
      try {
        const response = await send<ScoreResponse>({
          target: 'background',
          type: 'score',
          data: { video_id: this.videoId, comments: batch.map((el, i) => ({ id: String(i), text: this.tracked.get(el)!.text })) },
        });
        this.modelVersion = response.model_version;
        for (const r of response.results) this.apply(batch[Number(r.id)]!, r.label, r.score, r.probs);
        this.summary?.setStatus(`model ${response.model_version} · ${response.execution}`);
      } catch (err) {
        // The service worker or the model is unavailable: keep the comments pending and retry.
        batch.forEach((el) => this.pending.add(el));
        this.summary?.setStatus(`scoring unavailable: ${(err as Error).message}`, true);
        this.retryLater();
        return;
      }
    }
    this.updateSummary();
  }

  private retryLater(): void {
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.flush();
    }, 2000);
  }

  private apply(el: HTMLElement, label: Label, score: number, probs: [number, number, number]): void {
    const t = this.tracked.get(el);
    if (!t || !el.isConnected) return;
    t.label = label;
    t.score = score;
    t.probs = probs;
    if (!t.badge) {
      const text = t.text;
      t.badge = new Badge(document, {
        onCorrect: async (corrected) => {
          const r = await send<{ queued: boolean }>({
            target: 'background',
            type: 'feedback',
            data: { video_id: this.videoId, text, predicted: t.label!, corrected, score: t.score },
          });
          t.label = corrected;
          this.updateSummary();
          return r.queued ? 'sent' : 'queued-off';
        },
      });
    }
    t.badge.set(label, score);
    t.badge.setTheme(yt.isDarkTheme(document));
    t.badge.host.hidden = !this.showBadges;
    const slot = yt.badgeSlot(el);
    if (slot && t.badge.host.parentElement !== slot.parent) slot.parent.insertBefore(t.badge.host, slot.before);
    this.applyFilterTo(el, t);
    this.updateSummary();
  }

  private ensureSummary(): void {
    if (this.summary?.host.isConnected) return;
    const slot = yt.summarySlot(document);
    if (!slot) return;
    this.summary ??= new SummaryBar(document, (f) => this.setFilter(f));
    this.summary.setTheme(yt.isDarkTheme(document));
    slot.parent.insertBefore(this.summary.host, slot.before);
    this.updateSummary();
  }

  private counts(): Record<Label, number> {
    const counts = { negative: 0, neutral: 0, positive: 0 };
    for (const [el, t] of this.tracked) if (t.label && el.isConnected) counts[t.label]++;
    return counts;
  }

  private updateSummary(): void {
    this.summary?.update(this.counts());
  }

  private setFilter(filter: Filter): void {
    this.filter = filter;
    for (const [el, t] of this.tracked) this.applyFilterTo(el, t);
  }

  private applyFilterTo(el: HTMLElement, t: Tracked): void {
    const target = yt.filterTarget(el);
    const hide = this.filter !== 'all' && t.label !== undefined && t.label !== this.filter;
    // A top-level comment hides with its whole thread (the unit users see); a reply hides alone.
    if (hide) target.style.setProperty('display', 'none', 'important');
    else target.style.removeProperty('display');
  }

  private applyTheme(): void {
    const dark = yt.isDarkTheme(document);
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
      if (t.label && t.probs && t.score !== undefined && el.isConnected) {
        comments.push({ text: t.text, label: t.label, score: t.score, probs: t.probs, reply: t.reply });
      }
    }
    return { video_id: this.videoId, title: yt.videoTitle(document), model_version: this.modelVersion, comments };
  }
}

new CommentScorer().start();
