/**
 * Request latency per route as a Prometheus histogram (`ytsent_http_request_duration_seconds`),
 * persisted like every other counter (lib/metrics.ts: per-isolate buffer → R2 deltas → totals), so
 * buckets from every isolate add up. /metrics also derives p50/p95/p99 per route from the buckets
 * (`ytsent_http_request_duration_quantile_seconds`, linear within a bucket as Prometheus'
 * histogram_quantile does) over everything counted so far; for a time window, use
 * `histogram_quantile(0.95, rate(ytsent_http_request_duration_seconds_bucket[5m]))` in Prometheus.
 *
 * What a Worker can measure: Workers' clocks advance only across I/O (a Spectre mitigation), so a
 * duration is the time spent waiting on R2, the rate limiter and the client's body, and pure CPU work
 * (featurizing and scoring a cached model's batch) reads as 0. The client-side benchmark
 * (bench/predict.ts) measures the whole.
 */
import { metricName, seriesKey, type MetricsBuffer, type SeriesKey } from './metrics.js';

export const LATENCY_METRIC = 'ytsent_http_request_duration_seconds';
export const LATENCY_QUANTILE_METRIC = 'ytsent_http_request_duration_quantile_seconds';
/** Upper bounds in seconds (plus +Inf). */
export const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
export const QUANTILES = [0.5, 0.95, 0.99] as const;

/** Counts one request of `seconds` on `route` (cumulative buckets, as the exposition format wants them). */
export function observeLatency(buffer: MetricsBuffer, route: string, seconds: number): void {
  const s = Math.max(0, seconds);
  for (const le of LATENCY_BUCKETS_S) if (s <= le) buffer.inc(`${LATENCY_METRIC}_bucket`, { route, le: String(le) });
  buffer.inc(`${LATENCY_METRIC}_bucket`, { route, le: '+Inf' });
  buffer.inc(`${LATENCY_METRIC}_sum`, { route }, s);
  buffer.inc(`${LATENCY_METRIC}_count`, { route });
}

const SUFFIXES = ['_bucket', '_sum', '_count'] as const;

/** The histogram family a sample name belongs to (`x_bucket` → `x`), or the name itself. */
export function familyOf(name: string, histograms: ReadonlySet<string>): string {
  for (const suffix of SUFFIXES) {
    if (name.endsWith(suffix) && histograms.has(name.slice(0, -suffix.length))) return name.slice(0, -suffix.length);
  }
  return name;
}

function parseLabels(key: SeriesKey): Record<string, string> {
  const out: Record<string, string> = {};
  const i = key.indexOf('{');
  if (i < 0) return out;
  for (const m of key.slice(i + 1, -1).matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) out[m[1]!] = m[2]!;
  return out;
}

const leValue = (le: string | undefined): number => (le === undefined ? -1 : le === '+Inf' ? Infinity : Number(le));

/**
 * Order of a histogram family's samples in the exposition: per label set, the buckets by rising
 * `le` (the format requires it; plain string order puts "+Inf" and "10" first), then sum and count.
 */
export function compareHistogramSamples(a: SeriesKey, b: SeriesKey): number {
  const la = parseLabels(a);
  const lb = parseLabels(b);
  const rest = (l: Record<string, string>) => seriesKey('', Object.fromEntries(Object.entries(l).filter(([k]) => k !== 'le')));
  const ra = rest(la);
  const rb = rest(lb);
  if (ra !== rb) return ra < rb ? -1 : 1;
  const rank = (k: SeriesKey) => SUFFIXES.findIndex((s) => metricName(k).endsWith(s));
  const d = rank(a) - rank(b);
  if (d !== 0) return d;
  return leValue(la.le) - leValue(lb.le);
}

/**
 * The latency series with every bucket present. Only buckets a request fell into are ever
 * incremented (a counter that was never incremented is never written), so a route whose requests
 * were all slower than 5 ms has no 0.001 bucket; cumulative counts make the missing ones exact:
 * the count of the nearest bucket below, or 0.
 */
export function completeHistograms(series: Readonly<Record<SeriesKey, number>>): Record<SeriesKey, number> {
  const out: Record<SeriesKey, number> = { ...series };
  const routes = new Set<string>();
  for (const key of Object.keys(series)) {
    if (key.startsWith(`${LATENCY_METRIC}_bucket{`)) {
      const route = parseLabels(key).route;
      if (route !== undefined) routes.add(route);
    }
  }
  for (const escaped of routes) {
    const route = unescapeLabel(escaped);
    let running = 0;
    for (const le of [...LATENCY_BUCKETS_S.map(String), '+Inf']) {
      const key = seriesKey(`${LATENCY_METRIC}_bucket`, { route, le });
      if (out[key] === undefined) out[key] = running;
      else running = out[key]!;
    }
  }
  return out;
}

/** Undoes metrics.ts escapeLabel, so a label read back from a series key is escaped once, not twice. */
function unescapeLabel(v: string): string {
  return v.replace(/\\(.)/g, (_, ch: string) => (ch === 'n' ? '\n' : ch));
}

/**
 * p50/p95/p99 per route from the persisted buckets: the bound below which the quantile falls,
 * interpolated linearly inside its bucket; a quantile in the +Inf bucket reads as the largest bound.
 */
export function latencyQuantiles(series: Readonly<Record<SeriesKey, number>>): Record<SeriesKey, number> {
  const byRoute = new Map<string, Array<[number, number]>>();
  for (const [key, value] of Object.entries(completeHistograms(series))) {
    if (!key.startsWith(`${LATENCY_METRIC}_bucket{`)) continue;
    const labels = parseLabels(key);
    if (labels.route === undefined || labels.le === undefined) continue;
    const list = byRoute.get(labels.route) ?? [];
    list.push([leValue(labels.le), value]);
    byRoute.set(labels.route, list);
  }
  const out: Record<SeriesKey, number> = {};
  for (const [route, buckets] of byRoute) {
    buckets.sort((x, y) => x[0] - y[0]);
    const total = buckets[buckets.length - 1]![1];
    if (!(total > 0)) continue;
    for (const q of QUANTILES) {
      const rank = q * total;
      let lower = 0;
      let below = 0;
      let value = lower;
      for (const [le, count] of buckets) {
        if (count >= rank) {
          if (le === Infinity) value = lower;
          else value = count === below ? le : lower + ((le - lower) * (rank - below)) / (count - below);
          break;
        }
        if (le !== Infinity) lower = le;
        below = count;
      }
      out[seriesKey(LATENCY_QUANTILE_METRIC, { route: unescapeLabel(route), quantile: String(q) })] = value;
    }
  }
  return out;
}
