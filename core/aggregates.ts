/**
 * On-device hourly aggregates: how the extension turns scored comments into what consent
 * "stats" may send (core/wire.ts `AggregateItemSchema`), and when an aggregate may leave.
 *
 * Why aggregates and not rows: a row per comment (label, four-decimal probabilities, token
 * buckets, a millisecond time) can be matched against public comments scored with the public
 * model, which tells which comments, and so which videos, a person read. Counts over at least ten
 * comments and whole hours cannot be matched that way (docs/PRIVACY.md). Pure functions: the
 * extension stores the open aggregate, the worker sums received ones, tests drive the clock.
 */
import { binIndex } from './drift.js';
import { LABELS, labelIndex, type Label } from './labels.js';
import { TOKEN_BUCKETS } from './token-buckets.js';
import { AGGREGATE, AGGREGATE_CONFIDENCE_EDGES, HOUR_MS, LANG_RE, LATENCY_BINS, hourFloor, latencyBin, type AggregateItem } from './wire.js';

/** What one scored comment contributes: no text, no time finer than its hour. */
export interface AggregateComment {
  label: Label;
  /** Probability of `label`. */
  confidence: number;
  /** The comment's language ("und" when unknown). */
  lang: string;
  /** Distinct hashed-token buckets of the comment (core/token-buckets.ts). */
  tokens: readonly number[];
}

/** An aggregate being counted on the device (n may still be below the minimum). */
export type OpenAggregate = AggregateItem;

/** An empty aggregate for the hour holding `at`. */
export function emptyAggregate(at: number): OpenAggregate {
  const hour = hourFloor(at);
  return {
    hour_from: hour,
    hour_to: hour + HOUR_MS,
    n: 0,
    label_counts: LABELS.map(() => 0),
    confidence_counts: new Array<number>(AGGREGATE.confidence_bins).fill(0),
    languages: {},
    token_n: 0,
    token_counts: new Array<number>(TOKEN_BUCKETS).fill(0),
  };
}

/**
 * Counts one comment scored at `at` into `agg` (mutates it) and extends its range to that hour.
 * Returns false, counting nothing, once the aggregate holds `max_comments`. The caller first
 * asks {@link aggregateState} at `at`: only a 'counting' or 'waiting' aggregate takes comments, so
 * a range never grows past `max_hours`.
 */
export function addToAggregate(agg: OpenAggregate, comment: AggregateComment, at: number): boolean {
  if (agg.n >= AGGREGATE.max_comments) return false;
  const li = labelIndex(comment.label);
  const bin = Number.isFinite(comment.confidence) ? binIndex(Math.min(1, Math.max(0, comment.confidence)), AGGREGATE_CONFIDENCE_EDGES) : -1;
  // Every count vector must add up to n: a comment that cannot fill all of them counts in none.
  if (li < 0 || bin < 0) return false;
  agg.hour_to = Math.max(agg.hour_to, hourFloor(at) + HOUR_MS);
  agg.n++;
  agg.label_counts[li]!++;
  agg.confidence_counts[bin]!++;
  // A code the wire would refuse would cost the whole aggregate: it counts as unknown instead.
  const code = LANG_RE.test(comment.lang) ? comment.lang : 'und';
  // One key is kept free for "other", so the map never exceeds max_languages.
  const lang = Object.hasOwn(agg.languages, code) || Object.keys(agg.languages).length < AGGREGATE.max_languages - 1 ? code : 'other';
  agg.languages[lang] = (agg.languages[lang] ?? 0) + 1;
  const buckets = [...new Set(comment.tokens)].filter((t) => Number.isInteger(t) && t >= 0 && t < TOKEN_BUCKETS);
  if (buckets.length > 0) {
    agg.token_n++;
    for (const t of buckets) agg.token_counts[t]!++;
  }
  return true;
}

/**
 * Counts one model call of `ms` milliseconds into `agg` (mutates it): call it once per call that
 * counted at least one comment into `agg`, so the calls never outnumber the comments (the wire
 * schema checks that). An aggregate opened by an older version gets its histogram here.
 */
export function addScoringCall(agg: OpenAggregate, ms: number): void {
  const counts = (agg.latency_counts ??= new Array<number>(LATENCY_BINS).fill(0));
  const sum = counts.reduce((a, b) => a + b, 0);
  if (sum >= agg.n) return;
  counts[latencyBin(ms)]!++;
}

/**
 * Counts one failed model call into `agg` (mutates it; nothing was scored, so `n` is unchanged).
 * Errors alone never make an aggregate sendable: it still needs its ten comments.
 */
export function addScoringError(agg: OpenAggregate): void {
  agg.errors = Math.min(AGGREGATE.max_comments, (agg.errors ?? 0) + 1);
}

export type AggregateState =
  /** Its last hour has not ended: more comments may still be counted into it. */
  | 'counting'
  /** Its hours have ended and it holds enough comments: it may be sent. */
  | 'ready'
  /** Its hours have ended with too few comments: it waits for later hours to merge with. */
  | 'waiting'
  /** It covered the longest range and still holds too few: it is deleted, unsent. */
  | 'expired';

/** What becomes of an open aggregate at `now`. */
export function aggregateState(agg: OpenAggregate, now: number): AggregateState {
  if (now < agg.hour_to) return 'counting';
  if (agg.n >= AGGREGATE.min_comments) return 'ready';
  if (now >= agg.hour_from + AGGREGATE.max_hours * HOUR_MS) return 'expired';
  return 'waiting';
}
