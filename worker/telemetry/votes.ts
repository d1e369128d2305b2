/**
 * Corrections as votes: a correction counts toward retraining only once enough distinct clients,
 * on enough distinct networks, agree on the label of the same text.
 *
 * Why both: the client id is chosen by the client, so one machine can mint as many as it likes;
 * its network (the IP address, IPv6 by /64, see lib/rate-limit.ts) is what it cannot cheaply
 * change. Counting min(distinct clients, distinct networks) means N agreeing votes take N installs
 * on N networks. People behind one NAT count once: corrections are plentiful, poisoning is not
 * worth a few lost votes.
 *
 * Storage, per text and voter: `votes/<text_hash>/<voter>.json` with the vote in custom metadata
 * (so tallying needs one listing, no reads) and the scrubbed text in the body.
 * - `text_hash` = sha256 of the scrubbed text, NFKC, lower-cased, whitespace collapsed (so trivial
 *   variants of one comment meet).
 * - `voter` = HMAC-SHA256(CLIENT_ID_PEPPER, text_hash + client id); the stored `net` is the same
 *   HMAC over the network key, truncated. Both are salted with the text hash: two votes of one
 *   client on different texts cannot be linked, and neither the client id nor the address is
 *   stored or recoverable without the pepper.
 * A client that votes again on the same text replaces its vote (its latest opinion counts).
 */
import { LABELS, type Label } from '../../core/labels.js';
import { toHex, sha256Hex } from '../lib/hash.js';
import { keys, listAll, mapLimit } from '../lib/keys.js';

/** Scrubbed text → the key texts are grouped by. */
export function textKey(scrubbed: string): string {
  return scrubbed.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function textHash(scrubbed: string): Promise<string> {
  return sha256Hex(textKey(scrubbed));
}

const encoder = new TextEncoder();
const hmacKeys = new Map<string, Promise<CryptoKey>>();

async function hmacHex(secret: string, message: string): Promise<string> {
  let key = hmacKeys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    hmacKeys.set(secret, key);
  }
  return toHex(await crypto.subtle.sign('HMAC', await key, encoder.encode(message)));
}

export interface Vote {
  /** Scrubbed text as stored in the feedback batch. */
  text: string;
  predicted: Label;
  corrected: Label;
  model_version: string;
}

/**
 * A vote ready to store: its key parts are HMACs under the pepper, computed where the request is
 * (the raw client id and network never leave the request; the queue message carries these).
 */
export interface PreparedVote {
  /** textHash of the scrubbed text. */
  h: string;
  /** HMAC of the client id and the text hash: one voter per client and text. */
  voter: string;
  /** First 16 hex digits of the HMAC of the network and the text hash. */
  net: string;
}

/** One prepared vote per item, in item order (several items of one text: the last one wins in {@link writeVotes}). */
export async function prepareVotes(pepper: string, voter: { clientId: string; network: string }, texts: readonly string[]): Promise<PreparedVote[]> {
  return Promise.all(
    texts.map(async (text) => {
      const h = await textHash(text);
      const [id, net] = await Promise.all([hmacHex(pepper, `client:${h}:${voter.clientId}`), hmacHex(pepper, `net:${h}:${voter.network}`)]);
      return { h, voter: id, net: net.slice(0, 16) };
    }),
  );
}

/**
 * Stores one vote per voter and text, received in `hour`; returns the number written. A voter's
 * vote from a later hour is never replaced by one from an earlier hour: batches of one client can
 * reach their lanes in any order, so arrival order says nothing, and the hour is the finest time
 * kept. Within one hour a voter still counts once, with the label stored last. Rewriting the same
 * vote is harmless, so a redelivered batch may write it again.
 */
export async function writeVotes(bucket: R2Bucket, votes: ReadonlyArray<{ vote: Vote; prepared: PreparedVote }>, hour: string): Promise<number> {
  // One client voting twice on one text in a batch: its last vote is the one that stays.
  const byKey = new Map<string, { vote: Vote; prepared: PreparedVote }>();
  for (const v of votes) byKey.set(keys.vote(v.prepared.h, v.prepared.voter), v);
  const written = await mapLimit([...byKey], 8, async ([key, { vote, prepared }]) => {
    const existing = await bucket.head(key);
    if (existing && (existing.customMetadata?.hour ?? '') > hour) return 0;
    await bucket.put(key, JSON.stringify({ text: vote.text }), {
      httpMetadata: { contentType: 'application/json' },
      customMetadata: { corrected: vote.corrected, predicted: vote.predicted, model_version: vote.model_version, net: prepared.net, hour },
    });
    return 1;
  });
  return written.reduce((a: number, b) => a + b, 0);
}

export interface Tally {
  text_hash: string;
  /** Distinct voters per corrected label. */
  votes: Record<Label, number>;
  /** The label with the most support and that support: min(distinct clients, distinct networks). */
  label: Label;
  support: number;
  /** Voters who chose another label. */
  conflicting: number;
  model_versions: string[];
  /**
   * Hours (`YYYY-MM-DDTHH`, UTC) of the earliest and latest vote for `label`: when the correction
   * entered the stream and when it was last confirmed. Retraining holds out the newest corrections
   * by `first_hour` (training/stages/preprocess.ts).
   */
  first_hour: string;
  last_hour: string;
}

export interface CorrectionsReport {
  min_clients: number;
  /** Only votes cast in these hours were counted (`[from, to)`, hour keys); null: every vote. */
  range: { from: string; to: string } | null;
  /** Texts with at least one vote. */
  texts: number;
  agreed: number;
  /** Texts whose voters chose more than one label. */
  conflicted: number;
  /** Texts without enough agreeing support (conflicted or not). */
  below_threshold: number;
  /** Agreed texts, most support first. */
  corrections: Array<Tally & { text: string }>;
}

const isLabel = (x: unknown): x is Label => typeof x === 'string' && (LABELS as readonly string[]).includes(x);

/**
 * Tallies every vote. A text is agreed when its leading label has at least `minClients` support
 * (distinct clients and distinct networks) and more voters than all other labels together.
 *
 * With `range` (hour keys, `to` exclusive) only votes cast in those hours count, so a tally of
 * hours that have ended is the same whenever it is taken: what makes a retraining snapshot of a
 * range reproducible (training/collect.ts). A vote a client later replaced is gone either way.
 */
export async function tallyCorrections(bucket: R2Bucket, minClients: number, range: { from: string; to: string } | null = null): Promise<CorrectionsReport> {
  const listed = await listAll(bucket, keys.votePrefix, { include: ['customMetadata'] });
  const groups = new Map<string, R2Object[]>();
  for (const o of listed) {
    const hash = o.key.slice(keys.votePrefix.length).split('/')[0]!;
    if (!groups.has(hash)) groups.set(hash, []);
    groups.get(hash)!.push(o);
  }
  const report: CorrectionsReport = { min_clients: minClients, range, texts: 0, agreed: 0, conflicted: 0, below_threshold: 0, corrections: [] };
  const agreed: Array<{ tally: Tally; key: string }> = [];
  for (const [hash, objects] of groups) {
    const votes = Object.fromEntries(LABELS.map((l) => [l, 0])) as Record<Label, number>;
    const nets = Object.fromEntries(LABELS.map((l) => [l, new Set<string>()])) as Record<Label, Set<string>>;
    const versions = new Set<string>();
    const sample = new Map<Label, string>();
    const hours = Object.fromEntries(LABELS.map((l) => [l, [] as string[]])) as Record<Label, string[]>;
    for (const o of objects) {
      const m = o.customMetadata ?? {};
      if (!isLabel(m.corrected)) continue;
      const hour = m.hour ?? '';
      // Hour keys are fixed-width, so string order is time order.
      if (range && !(hour >= range.from && hour < range.to)) continue;
      votes[m.corrected]++;
      hours[m.corrected].push(hour);
      nets[m.corrected].add(m.net ?? o.key);
      if (m.model_version) versions.add(m.model_version);
      if (!sample.has(m.corrected)) sample.set(m.corrected, o.key);
    }
    const voters = LABELS.reduce((n, l) => n + votes[l], 0);
    if (voters === 0) continue;
    report.texts++;
    const label = [...LABELS].sort((a, b) => votes[b] - votes[a] || nets[b].size - nets[a].size)[0]!;
    const support = Math.min(votes[label], nets[label].size);
    const conflicting = voters - votes[label];
    if (conflicting > 0) report.conflicted++;
    const when = hours[label].sort();
    const tally: Tally = { text_hash: hash, votes, label, support, conflicting, model_versions: [...versions].sort(), first_hour: when[0]!, last_hour: when[when.length - 1]! };
    if (support >= minClients && votes[label] > conflicting) agreed.push({ tally, key: sample.get(label)! });
    else report.below_threshold++;
  }
  report.agreed = agreed.length;
  const texts = await mapLimit(agreed, 8, async (a) => ((await (await bucket.get(a.key))?.json<{ text?: unknown }>()) ?? {}).text);
  report.corrections = agreed.map((a, i) => ({ ...a.tally, text: typeof texts[i] === 'string' ? texts[i] : '' })).sort((a, b) => b.support - a.support || (a.text_hash < b.text_hash ? -1 : 1));
  return report;
}
