/** Shared pieces of the wrangler dev tests: the committed model, descendant processes, items. */
import { readdirSync, readFileSync } from 'node:fs';
import { defaultModelDir } from '../../node-runtime/bundle.js';
import { parseManifest, type ModelManifest } from '../../core/manifest.js';
import { LABELS } from '../../core/labels.js';
import { testSecrets } from '../../scripts/dev-secrets.js';

/** The Worker's secrets for these tests (passed to wrangler dev as vars). */
export const SECRETS = testSecrets('wrangler-test');
export const HOUR_MS = 3_600_000;

/** The newest committed bundle under models/ (what `npm start` publishes). */
export function committedModel(): { dir: string; manifest: ModelManifest } {
  const dir = defaultModelDir();
  return { dir, manifest: parseManifest(JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8'))) };
}

/** Every descendant of `pid` (children, grandchildren, ...) from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesized command name, which may itself contain spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid)!.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  const out: number[] = [];
  const stack = [pid];
  while (stack.length) {
    for (const c of children.get(stack.pop()!) ?? []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Waits until at least `marginMs` remain in the current hour (samples must land in one partition). */
export async function awayFromHourEnd(marginMs = 60_000): Promise<void> {
  const left = HOUR_MS - (Date.now() % HOUR_MS);
  if (left < marginMs) await new Promise((r) => setTimeout(r, left + 1000));
}

export interface Item {
  label: (typeof LABELS)[number];
  score: number;
  tokens: number[];
  ts: number;
  lang: string;
}

/**
 * Items whose histograms reproduce the manifest's reference exactly (labels up to rounding):
 * scores at the centres of the reference's confidence bins, each hashed-token bucket handed out
 * as often as the reference counted it, round-robin over the items.
 */
export function itemsLikeReference(manifest: ModelManifest, now = Date.now()): Item[] {
  const ref = manifest.reference!;
  const { edges, counts } = ref.confidence_hist;
  const scores: number[] = [];
  counts.forEach((c, i) => {
    for (let k = 0; k < c; k++) scores.push((edges[i]! + edges[i + 1]!) / 2);
  });
  const n = scores.length;
  const labels: Item['label'][] = [];
  const quotas = ref.label_shares.map((s) => Math.round(s * n));
  quotas[quotas.length - 1] = n - quotas.slice(0, -1).reduce((a, b) => a + b, 0);
  quotas.forEach((q, li) => {
    for (let k = 0; k < q; k++) labels.push(LABELS[li]!);
  });
  const tokens: number[][] = Array.from({ length: n }, () => []);
  let pos = 0;
  ref.token_hist.counts.forEach((c, bucket) => {
    for (let k = 0; k < c; k++) tokens[pos++ % n]!.push(bucket);
  });
  return scores.map((score, i) => ({ label: labels[i]!, score, tokens: tokens[i]!.sort((a, b) => a - b), ts: now, lang: 'en' }));
}

/**
 * Polls `check` until it returns a value (not undefined) or `timeoutMs` passes. The queue consumers
 * of `wrangler dev` store a batch within max_batch_timeout (5 s, wrangler.toml) of it being queued.
 */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * What GET /v1/admin/ingest says of the hour of `now` and the one before: batches stored, messages
 * dead-lettered. Each request is given `requestTimeoutMs`: under load, wrangler dev has held one of
 * these requests unanswered until the next request arrived (114 s in one run, while its queue
 * delivery had finished), so a poll that hangs is abandoned and the next poll asks again.
 */
async function ingestStatus(url: string, readToken: string, now: number, requestTimeoutMs: number): Promise<{ batches: number; dead_letters: number }> {
  const total = { batches: 0, dead_letters: 0 };
  for (const t of [now - HOUR_MS, now]) {
    const hour = new Date(t).toISOString().slice(0, 13);
    const res = await fetch(`${url}/v1/admin/ingest?hour=${hour}`, { headers: { Authorization: `Bearer ${readToken}` }, signal: AbortSignal.timeout(requestTimeoutMs) });
    if (res.status !== 200) throw new Error(`GET /v1/admin/ingest answered ${res.status}: ${await res.text()}`);
    const body = (await res.json()) as { batches: number; dead_letters: Array<{ messages: number }> };
    total.batches += body.batches;
    total.dead_letters += body.dead_letters.reduce((n, d) => n + d.messages, 0);
  }
  return total;
}

/**
 * Waits until the lanes have stored at least `n` batches in the current and the previous hour. On a
 * timeout the error carries the last lines wrangler dev logged (wrangler's "QUEUE <lane> n/n" line and the consumer's counts per delivery).
 */
export async function untilStored(dev: { url: string; logs(): string }, n: number, readToken = SECRETS.READ_TOKEN, timeoutMs?: number): Promise<number> {
  let got = { batches: 0, dead_letters: 0 };
  try {
    return await eventually(
      `${n} stored batches`,
      async () => {
        try {
          got = await ingestStatus(dev.url, readToken, Date.now(), 5000);
        } catch (e) {
          // A poll that hung (see ingestStatus): ask again.
          if ((e as Error).name === 'TimeoutError') return undefined;
          throw e;
        }
        return got.batches >= n ? got.batches : undefined;
      },
      timeoutMs,
    );
  } catch (e) {
    const tail = dev.logs().split('\n').slice(-60).join('\n');
    throw new Error(`${(e as Error).message} (${got.batches} stored, ${got.dead_letters} dead-lettered messages); wrangler dev's last log lines:\n${tail}`);
  }
}
