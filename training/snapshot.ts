/**
 * Feedback snapshots: what `npm run collect` pulled from a backend, frozen as an immutable,
 * content-addressed folder that the training pipeline takes as a source (DVC-style data
 * versioning: a snapshot is named by the hash of what it holds, so a run record that names one
 * names exactly the data it trained on).
 *
 *   <snapshots>/<id>/rows.jsonl      one row per line: agreed corrections, then text samples
 *   <snapshots>/<id>/manifest.json   counts, hashes, time range, source backend (no wall-clock time)
 *
 * `id` is the sha256 of manifest.json's bytes, and the manifest holds the sha256 of rows.jsonl, so
 * the folder name pins every byte. Both files are written canonically (sorted rows, fixed key order,
 * no collection time), so collecting the same range of ended hours from the same backend again
 * gives the same id. A snapshot is never rewritten: writing one that exists checks it is identical.
 *
 * Snapshots hold scrubbed comment text from users who opted in: they live outside git
 * (`data/snapshots/` by default, git-ignored; `--out` or `YTSENT_SNAPSHOTS` moves them) and are kept
 * no longer than the backend keeps its samples (docs/MLOPS.md, docs/PRIVACY.md).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { LABELS } from '../core/labels.js';
import { Sha256Schema } from '../core/manifest.js';
import { sha256Hex } from '../node-runtime/sha256.js';
import { REPO_ROOT } from './paths.js';

export const SNAPSHOT_FORMAT = 'ytsent-feedback-snapshot/1';
export const ROWS_FILE = 'rows.jsonl';
export const SNAPSHOT_MANIFEST = 'manifest.json';

/** Where snapshots go unless told otherwise: git-ignored, inside the repository. */
export const DEFAULT_SNAPSHOTS_DIR = join(REPO_ROOT, 'data', 'snapshots');

export function snapshotsDir(override?: string): string {
  const dir = override ?? process.env.YTSENT_SNAPSHOTS ?? DEFAULT_SNAPSHOTS_DIR;
  return isAbsolute(dir) ? dir : resolve(REPO_ROOT, dir);
}

const HourKey = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}$/, 'must be an hour like 2026-01-31T13');
const Label = z.enum(LABELS);

/** An agreed correction: the label enough distinct clients on distinct networks gave a text. */
export const CorrectionRowSchema = z
  .object({
    kind: z.literal('correction'),
    /** The backend's text hash (sha256 of the scrubbed text, NFKC, lower-cased, spaces collapsed). */
    text_hash: Sha256Schema,
    text: z.string().min(1),
    label: Label,
    /** When the text was first and last corrected to `label` (hour keys, UTC). */
    first_hour: HourKey,
    last_hour: HourKey,
    /** min(distinct voters, distinct networks) behind `label`; voters for other labels. */
    support: z.number().int().positive(),
    conflicting: z.number().int().nonnegative(),
    model_versions: z.array(z.string()),
  })
  .strict();
export type CorrectionRow = z.infer<typeof CorrectionRowSchema>;

/** A text sample as some model labeled it (not a human label: kept for analysis, not trained on). */
export const SampleRowSchema = z
  .object({
    kind: z.literal('sample'),
    text: z.string().min(1),
    predicted: Label,
    lang: z.string().nullable(),
    /** Earliest hour it was received in (UTC) and how many times it was received in the range. */
    hour: HourKey,
    count: z.number().int().positive(),
    model_versions: z.array(z.string()),
  })
  .strict();
export type SampleRow = z.infer<typeof SampleRowSchema>;

export type SnapshotRow = CorrectionRow | SampleRow;
const RowSchema = z.discriminatedUnion('kind', [CorrectionRowSchema, SampleRowSchema]);

const Count = z.number().int().nonnegative();
export const SnapshotManifestSchema = z
  .object({
    format: z.literal(SNAPSHOT_FORMAT),
    source: z.object({
      /** Origin and path of the backend, without credentials or query. */
      backend: z.string(),
      /** Hours `[from, to)` the rows were received or voted in. */
      range: z.object({ from: HourKey, to: HourKey }),
      /** Whether `to` reached into an hour that had not ended: then the snapshot is not reproducible. */
      open_hours: z.boolean(),
      min_clients: z.number().int().positive(),
      model_versions: z.array(z.string()),
    }),
    files: z.object({ [ROWS_FILE]: z.object({ sha256: Sha256Schema, bytes: Count, rows: Count }) }),
    corrections: z.object({
      /** Texts with votes in the range, as the backend counted them. */
      texts_with_votes: Count,
      /** Texts whose voters disagreed (some may still be agreed), and texts without enough agreeing support. */
      conflicted_on_backend: Count,
      below_threshold: Count,
      /** Agreed texts the export returned. */
      exported: Count,
      /** Texts the scrubber changed again here. */
      rescrubbed: Count,
      /** Equal (as training keys texts) to a text of the public data sets: dropped. */
      public_duplicates: Count,
      /** Of those, how many had another label in the public data. */
      public_label_disagreements: Count,
      /** Distinct backend texts that are one training text: merged when they agree, dropped when not. */
      merged: Count,
      conflicts_dropped: Count,
      kept: Count,
      labels: z.record(Label, Count),
    }),
    samples: z.object({
      exported: Count,
      rescrubbed: Count,
      public_duplicates: Count,
      merged: Count,
      kept: Count,
    }),
    /** First and last hour of the kept corrections (null without any). */
    time_range: z.object({ first_hour: HourKey, last_hour: HourKey }).nullable(),
    dedup: z.object({
      /** How texts were compared: training/stages/preprocess.ts keyOf (normalizer tokens). */
      key: z.string(),
      /** sha256 of the public data folder's SHA256SUMS the texts were compared with. */
      public_data_sha256: Sha256Schema,
    }),
  })
  .strict();
export type SnapshotManifest = z.infer<typeof SnapshotManifestSchema>;

/** Stable JSON of a row: fixed key order (the schema's), so equal rows are equal bytes. */
function rowLine(row: SnapshotRow): string {
  const ordered =
    row.kind === 'correction'
      ? {
          kind: row.kind,
          text_hash: row.text_hash,
          text: row.text,
          label: row.label,
          first_hour: row.first_hour,
          last_hour: row.last_hour,
          support: row.support,
          conflicting: row.conflicting,
          model_versions: row.model_versions,
        }
      : { kind: row.kind, text: row.text, predicted: row.predicted, lang: row.lang, hour: row.hour, count: row.count, model_versions: row.model_versions };
  return JSON.stringify(ordered);
}

/** Canonical order: corrections by (first hour, text hash), then samples by (hour, text). */
export function sortRows(rows: readonly SnapshotRow[]): SnapshotRow[] {
  const key = (r: SnapshotRow): string => (r.kind === 'correction' ? `0 ${r.first_hour} ${r.text_hash}` : `1 ${r.hour} ${r.text}`);
  return [...rows].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

export function encodeRows(rows: readonly SnapshotRow[]): string {
  return sortRows(rows)
    .map((r) => rowLine(r) + '\n')
    .join('');
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

export interface WrittenSnapshot {
  id: string;
  dir: string;
  manifest: SnapshotManifest;
  /** False when an identical snapshot was already there. */
  created: boolean;
}

/**
 * Writes a snapshot (rows sorted canonically; the manifest's `files` filled in) and returns its id.
 * Written to a temporary folder and renamed, so a crash never leaves a half snapshot under an id.
 */
export function writeSnapshot(root: string, rows: readonly SnapshotRow[], manifest: Omit<SnapshotManifest, 'files'>): WrittenSnapshot {
  const body = encodeRows(rows);
  const full: SnapshotManifest = SnapshotManifestSchema.parse({
    ...manifest,
    files: { [ROWS_FILE]: { sha256: sha256Hex(body), bytes: Buffer.byteLength(body), rows: rows.length } },
  });
  const manifestText = canonicalManifest(full);
  const id = sha256Hex(manifestText);
  const dir = join(root, id);
  if (existsSync(dir)) {
    // Immutable: an existing snapshot under this id must hold exactly these bytes.
    verifySnapshot(dir);
    return { id, dir, manifest: full, created: false };
  }
  mkdirSync(root, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  writeFileSync(join(tmp, ROWS_FILE), body);
  writeFileSync(join(tmp, SNAPSHOT_MANIFEST), manifestText);
  renameSync(tmp, dir);
  return { id, dir, manifest: full, created: true };
}

/** The manifest's bytes: keys in schema order, two-space indented, newline-terminated. */
function canonicalManifest(m: SnapshotManifest): string {
  return JSON.stringify(m, null, 2) + '\n';
}

export interface LoadedSnapshot {
  id: string;
  dir: string;
  manifest: SnapshotManifest;
  corrections: CorrectionRow[];
  samples: SampleRow[];
}

/**
 * Reads a snapshot folder and verifies it: the folder name is the sha256 of manifest.json, the
 * rows file matches the manifest's size and sha256, and every row parses. Throws SnapshotError
 * naming what is wrong (a snapshot edited by hand is refused, not trained on).
 */
export function verifySnapshot(dir: string): LoadedSnapshot {
  const manifestPath = join(dir, SNAPSHOT_MANIFEST);
  if (!existsSync(manifestPath)) throw new SnapshotError(`${dir}: not a feedback snapshot (no ${SNAPSHOT_MANIFEST})`);
  const manifestBytes = readFileSync(manifestPath);
  const id = sha256Hex(manifestBytes);
  const name = dir.replace(/\/+$/, '').split('/').pop()!;
  if (name !== id) throw new SnapshotError(`${dir}: manifest.json has sha256 ${id}, but the folder is named ${name}: the snapshot was changed after it was written`);
  let manifest: SnapshotManifest;
  try {
    manifest = SnapshotManifestSchema.parse(JSON.parse(manifestBytes.toString('utf8')));
  } catch (e) {
    throw new SnapshotError(`${manifestPath}: ${e instanceof z.ZodError ? e.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (e as Error).message}`);
  }
  const rowsPath = join(dir, ROWS_FILE);
  if (!existsSync(rowsPath)) throw new SnapshotError(`${dir}: ${ROWS_FILE} is missing`);
  const bytes = readFileSync(rowsPath);
  const expected = manifest.files[ROWS_FILE];
  if (bytes.byteLength !== expected.bytes || sha256Hex(bytes) !== expected.sha256) {
    throw new SnapshotError(`${rowsPath}: does not match the sha256 and size in manifest.json: the snapshot was changed after it was written`);
  }
  const corrections: CorrectionRow[] = [];
  const samples: SampleRow[] = [];
  bytes
    .toString('utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line === '') return;
      const parsed = RowSchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new SnapshotError(`${rowsPath}:${i + 1}: ${parsed.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
      if (parsed.data.kind === 'correction') corrections.push(parsed.data);
      else samples.push(parsed.data);
    });
  if (corrections.length + samples.length !== expected.rows) throw new SnapshotError(`${rowsPath}: ${corrections.length + samples.length} rows, the manifest says ${expected.rows}`);
  return { id, dir, manifest, corrections, samples };
}

/**
 * A snapshot named in params or on the command line: an absolute or repository-relative folder,
 * or a bare id (or unique id prefix of at least 8 characters) under the snapshots folder.
 */
export function resolveSnapshot(ref: string, root: string = snapshotsDir()): string {
  if (ref.includes('/')) return isAbsolute(ref) ? ref : resolve(REPO_ROOT, ref);
  if (!/^[0-9a-f]{8,64}$/.test(ref)) throw new SnapshotError(`"${ref}" is neither a snapshot folder nor a snapshot id (hex)`);
  if (existsSync(join(root, ref))) return join(root, ref);
  const matches = existsSync(root) ? readdirSync(root).filter((n) => /^[0-9a-f]{64}$/.test(n) && n.startsWith(ref)) : [];
  if (matches.length === 1) return join(root, matches[0]!);
  throw new SnapshotError(matches.length > 1 ? `snapshot id prefix ${ref} matches ${matches.length} snapshots in ${root}` : `no snapshot ${ref} in ${root} (npm run collect writes one)`);
}
