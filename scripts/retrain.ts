/**
 * `npm run retrain` closes the loop in one command (docs/MLOPS.md):
 *
 *   1. collect  the backend's agreed corrections and samples → a feedback snapshot (training/collect.ts)
 *   2. train    the pipeline with the snapshot as the `feedback` source, newest corrections held out
 *   3. gate     the champion/challenger gate against the version the channel serves (training/champion.ts)
 *   4. publish  the blessed bundle, signed with the release key (scripts/publish-model.ts)
 *   5. canary   a rollout of the new version to a share of installs (scripts/rollout.ts, the step
 *               `npm run rollout -- --version V --percent P` takes); the backend's hourly job watches
 *               it and rolls it back on its own if it does worse; `npm run rollout` takes it further
 *
 * Progress goes to stderr, one line per step with its outcome and time; the final report (the
 * same facts, as JSON with `--json`) to stdout. Exit status: 0 the canary started (or, on a
 * channel with no version yet, the model was promoted), 1 the gate or a release gate refused the
 * model, 2 an error (nothing was published or moved after the failing step).
 *
 *   npm run retrain -- --backend URL [--channel stable] [--params FILE | --smoke] [--data DIR]
 *     [--from HOUR --to HOUR | --hours N] [--include-current-hour] [--min-clients N]
 *     [--version X.Y.Z] [--canary-percent 10] [--keep-refused] [--snapshot ID|DIR] [--json]
 *     [--read-token-file F] [--token-file F] [--promote-token-file F] [--key-file F]
 *     [--models-dir DIR] [--cache-dir DIR] [--runs-dir DIR] [--snapshots DIR]
 *
 * Tokens as for the other CLIs: a file option, else READ_TOKEN / ADMIN_PUBLISH_TOKEN /
 * ADMIN_PROMOTE_TOKEN, else .dev.vars; never on the command line.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareSemver, parseManifest, SEMVER_RE } from '../core/manifest.js';
import type { ReleaseKeyFile } from '../core/release-signature.js';
import { loadBundle } from '../node-runtime/bundle.js';
import { userPath } from '../node-runtime/io.js';
import { sha256Hex } from '../node-runtime/sha256.js';
import { collect, hourKey, HOUR_MS } from '../training/collect.js';
import { DEFAULT_COLLECT_CACHE } from '../training/collect-cli.js';
import { DEFAULT_CACHE_DIR, DEFAULT_PARAMS, DEFAULT_RUNS_DIR, MODELS_DIR, REPO_ROOT, SMOKE_PARAMS } from '../training/paths.js';
import { loadParams } from '../training/params.js';
import { resolveDataDir, runPipeline } from '../training/pipeline.js';
import type { RunRecord } from '../training/runs.js';
import { resolveSnapshot, snapshotsDir, verifySnapshot } from '../training/snapshot.js';
import { readDevVars, readTokenFile } from './dev-secrets.js';
import { DEFAULT_RELEASE_KEY_FILE, publishModel, readReleaseKey } from './publish-model.js';
import { rollout } from './rollout.js';

export interface RetrainOptions {
  backend: string;
  channel?: string;
  tokens: { read: string; publish: string; promote: string };
  releaseKey?: ReleaseKeyFile;
  paramsFile: string;
  dataDir?: string;
  /** Collected hours; default: the `hours` (168) that ended last. */
  from?: string;
  to?: string;
  hours?: number;
  includeCurrentHour?: boolean;
  minClients?: number;
  /** The new model's version; default: the next patch after every version the backend and modelsDir know. */
  version?: string;
  /** Share of installs for the canary; 0: publish only. */
  canaryPercent?: number;
  /** Register and publish a model the gate refused (never put on the channel). */
  keepRefused?: boolean;
  /** Train on this snapshot (folder or id) instead of collecting a new one. */
  snapshot?: string;
  modelsDir?: string;
  cacheDir?: string;
  runsDir?: string;
  snapshotsRoot?: string;
  collectCache?: string;
  /** Where champions fetched from the backend are kept (verified bundles, by version and manifest hash). */
  championsDir?: string;
  now?: () => number;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** The pipeline's own lines (indented under the train step). */
  detail?: (line: string) => void;
}

export interface StepReport {
  step: 'collect' | 'champion' | 'train' | 'gate' | 'publish' | 'canary';
  ok: boolean;
  seconds: number;
  summary: string;
}

export interface RetrainReport {
  outcome: 'canary' | 'promoted' | 'published' | 'refused' | 'gates_failed';
  backend: string;
  channel: string;
  steps: StepReport[];
  snapshot: { id: string; dir: string; corrections: number; samples: number; range: { from: string; to: string } } | null;
  champion: { version: string; manifest_sha256: string } | null;
  run: { id: string; record: string; status: RunRecord['status']; version: string; bundle: string | null; metrics: RunRecord['metrics'] } | null;
  gate: { verdict: string; macro_f1_diff: unknown; failures: string[]; feedback: { champion: number; challenger: number } | null } | null;
  published: { version: string; status: string; signed_by: string | null } | null;
  canary: { version: string; percent: number; stable: string } | null;
  next: string[];
}

export class RetrainError extends Error {
  override name = 'RetrainError';
}

async function getJson(url: string, token?: string): Promise<{ status: number; body: unknown; bytes: Uint8Array }> {
  const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  const bytes = new Uint8Array(await res.arrayBuffer());
  let body: unknown = null;
  try {
    body = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    // not JSON (a file)
  }
  return { status: res.status, body, bytes };
}

const errorText = (body: unknown): string => {
  const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return e ? `${e.code}: ${e.message}` : (JSON.stringify(body)?.slice(0, 300) ?? '');
};

export interface ChannelView {
  stable: string;
  candidate: { version: string; percent: number } | null;
}

/** What the channel serves (stable and any rollout), or null when it has no version yet. */
export async function channelView(base: string, channel: string): Promise<ChannelView | null> {
  const r = await getJson(`${base}/v1/channels/${channel}/rollout`);
  if (r.status === 200) {
    const doc = r.body as { stable: { version: string }; candidate: { version: string; percent: number } | null };
    return { stable: doc.stable.version, candidate: doc.candidate ? { version: doc.candidate.version, percent: doc.candidate.percent } : null };
  }
  if (r.status === 404 && errorText(r.body).startsWith('unknown_channel')) return null;
  throw new RetrainError(`reading channel ${channel}: HTTP ${r.status} ${errorText(r.body)}`);
}

/**
 * Downloads a published version into `root/<version>-<manifest sha256 prefix>/` (manifest bytes
 * exactly as published, so their sha256 is the one the registry compares), verifying every file.
 * A folder already there is verified and reused.
 */
export async function fetchBundle(base: string, version: string, root: string): Promise<{ dir: string; manifestSha256: string }> {
  const m = await getJson(`${base}/v1/models/${version}/manifest.json`);
  if (m.status !== 200) throw new RetrainError(`fetching ${version}'s manifest: HTTP ${m.status} ${errorText(m.body)}`);
  const manifestSha256 = sha256Hex(m.bytes);
  const manifest = parseManifest(m.body);
  const dir = join(root, `${version}-${manifestSha256.slice(0, 12)}`);
  if (existsSync(join(dir, 'manifest.json'))) {
    loadBundle(dir);
    return { dir, manifestSha256 };
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const f of manifest.files) {
    const r = await getJson(`${base}/v1/models/${version}/files/${f.path.split('/').map(encodeURIComponent).join('/')}`);
    if (r.status !== 200) throw new RetrainError(`fetching ${version}/${f.path}: HTTP ${r.status}`);
    mkdirSync(join(tmp, f.path, '..'), { recursive: true });
    writeFileSync(join(tmp, f.path), r.bytes);
  }
  writeFileSync(join(tmp, 'manifest.json'), m.bytes);
  loadBundle(tmp); // sizes and sha256 of every file against the manifest
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { dir, manifestSha256 };
}

/** The next patch version after every version given (a prerelease x.y.z-… becomes x.y.z). */
export function nextVersion(known: readonly string[]): string {
  const valid = known.filter((v) => SEMVER_RE.test(v)).sort(compareSemver);
  const top = valid.at(-1);
  if (!top) return '1.0.0';
  const [major, minor, patch] = top.split('-')[0]!.split('.').map(Number) as [number, number, number];
  return top.includes('-') ? `${major}.${minor}.${patch}` : `${major}.${minor}.${patch + 1}`;
}

const seconds = (since: number): number => Math.round((performance.now() - since) / 100) / 10;

/** Runs the loop once. Throws RetrainError (or another error) when a step cannot be done. */
export async function retrain(opts: RetrainOptions): Promise<RetrainReport> {
  const log = opts.log ?? (() => {});
  const base = opts.backend.replace(/\/+$/, '');
  const channel = opts.channel ?? 'stable';
  const now = opts.now ?? (() => Date.now());
  const modelsDir = opts.modelsDir ?? MODELS_DIR;
  const percent = opts.canaryPercent ?? 10;
  if (!(percent >= 0 && percent < 100)) throw new RetrainError('--canary-percent must be in [0, 100)');
  const report: RetrainReport = { outcome: 'published', backend: base, channel, steps: [], snapshot: null, champion: null, run: null, gate: null, published: null, canary: null, next: [] };
  const total = 6;
  let n = 0;
  const step = async <T>(name: StepReport['step'], title: string, run: () => Promise<{ value: T; summary: string; ok?: boolean }>): Promise<T> => {
    log(`[${++n}/${total}] ${title}…`);
    const started = performance.now();
    const { value, summary, ok = true } = await run();
    const s: StepReport = { step: name, ok, seconds: seconds(started), summary };
    report.steps.push(s);
    log(`      ${ok ? '✓' : '✗'} ${summary} (${s.seconds} s)`);
    return value;
  };

  // Before any work: a rollout in progress would have to end before a new canary can start.
  const view = await channelView(base, channel);
  if (view?.candidate && percent > 0) {
    throw new RetrainError(`${view.candidate.version} is being rolled out on ${channel} (${view.candidate.percent}%): promote or abort it first (npm run rollout), or pass --canary-percent 0`);
  }

  const current = now();
  const to = opts.to ?? hourKey(Math.floor(current / HOUR_MS) * HOUR_MS + (opts.includeCurrentHour ? HOUR_MS : 0));
  const from = opts.from ?? hourKey(Date.parse(`${to}:00:00.000Z`) - (opts.hours ?? 168) * HOUR_MS);
  const params = loadParams(opts.paramsFile);
  const dataDir = resolveDataDir(params, opts.dataDir);

  const snapshot = await step('collect', opts.snapshot ? `feedback snapshot ${opts.snapshot} (not collecting)` : `collect feedback from ${base}, hours [${from}, ${to})`, async () => {
    if (opts.snapshot) {
      const s = verifySnapshot(resolveSnapshot(opts.snapshot, opts.snapshotsRoot ?? snapshotsDir()));
      const c = s.manifest.corrections;
      report.snapshot = { id: s.id, dir: s.dir, corrections: c.kept, samples: s.manifest.samples.kept, range: s.manifest.source.range };
      return {
        value: { id: s.id, dir: s.dir, manifest: s.manifest },
        summary: `snapshot ${s.id.slice(0, 12)} as collected from ${s.manifest.source.backend}: ${c.kept} agreed corrections, ${s.manifest.samples.kept} samples`,
      };
    }
    const r = await collect({
      backend: base,
      token: opts.tokens.read,
      from,
      to,
      minClients: opts.minClients,
      dataDir,
      snapshotsRoot: opts.snapshotsRoot ?? snapshotsDir(),
      cacheDir: opts.collectCache ?? DEFAULT_COLLECT_CACHE,
      now,
    });
    const c = r.manifest.corrections;
    report.snapshot = { id: r.id, dir: r.dir, corrections: c.kept, samples: r.manifest.samples.kept, range: r.manifest.source.range };
    return {
      value: r,
      summary: `snapshot ${r.id.slice(0, 12)}: ${c.kept} agreed corrections (of ${c.texts_with_votes} texts with votes; ${c.public_duplicates} public duplicates, ${c.conflicts_dropped} conflicting dropped), ${r.manifest.samples.kept} samples`,
    };
  });
  if (snapshot.manifest.corrections.kept === 0) throw new RetrainError(`no agreed corrections in [${from}, ${to}): nothing to retrain on`);

  const champion = await step('champion', view ? `fetch the champion (${channel}: ${view.stable})` : `champion: ${channel} serves no version yet`, async () => {
    if (!view) return { value: null, summary: 'none: the gate checks the golden examples only, and the model becomes the first version' };
    const c = await fetchBundle(base, view.stable, opts.championsDir ?? join(REPO_ROOT, '.cache', 'champions'));
    report.champion = { version: view.stable, manifest_sha256: c.manifestSha256 };
    return { value: c, summary: `champion ${view.stable} (manifest ${c.manifestSha256.slice(0, 12)}, every file verified) in ${relative(REPO_ROOT, c.dir) || c.dir}` };
  });

  let version = opts.version;
  if (!version) {
    const listed = await getJson(`${base}/v1/models`);
    const published = ((listed.body as { models?: Array<{ version: string }> } | null)?.models ?? []).map((m) => m.version);
    const local = existsSync(modelsDir) ? readdirSync(modelsDir).filter((d) => SEMVER_RE.test(d)) : [];
    version = nextVersion([...published, ...local, params.model.version]);
  }

  const run = await step('train', `train ${version} with the snapshot (${params.model.name}, ${relative(REPO_ROOT, opts.paramsFile) || opts.paramsFile})`, async () => {
    const r = await runPipeline({
      paramsFile: opts.paramsFile,
      dataDir: opts.dataDir,
      cacheDir: opts.cacheDir ?? DEFAULT_CACHE_DIR,
      modelsDir,
      runsDir: opts.runsDir ?? DEFAULT_RUNS_DIR,
      feedbackSnapshot: snapshot.dir,
      champion: champion?.dir ?? null,
      registerRefused: opts.keepRefused,
      modelVersion: version,
      now: () => new Date(now()),
      // The release gates that passed are in the run record; here only what needs reading.
      log: (line) => (/^\s+gate pass /.test(line) ? undefined : opts.detail?.(line)),
    });
    const rec = r.record;
    report.run = { id: rec.run_id, record: r.recordPath, status: rec.status, version: version!, bundle: rec.registered ? resolve(REPO_ROOT, rec.registered.dir) : null, metrics: rec.metrics };
    const fb = rec.metrics.feedback_val;
    const trained = r.stages.filter((s) => !s.cached).length;
    return {
      value: r,
      ok: rec.status !== 'gates_failed',
      summary: `run ${rec.run_id}: ${trained} stage(s) ran, ${r.stages.length - trained} cached${fb ? `; feedback set macro-F1 ${fb.macro_f1.toFixed(3)} (n=${fb.n})` : ''}${
        rec.status === 'gates_failed'
          ? `; release gates failed: ${rec.gates
              .filter((g) => !g.passed && !g.waived)
              .map((g) => g.gate)
              .join(', ')}`
          : ''
      }`,
    };
  });
  if (run.record.status === 'gates_failed') {
    report.outcome = 'gates_failed';
    report.next.push(`the release gates of ${relative(REPO_ROOT, opts.paramsFile)} failed: see ${relative(REPO_ROOT, run.recordPath)} (npm run runs)`);
    return report;
  }

  const blessing = run.record.blessing!;
  await step('gate', `champion/challenger gate: ${version} against ${champion ? view!.stable : 'no champion'}`, async () => {
    const gateReport = blessing.report as { slices: Array<{ name: string; champion: { macro_f1: number }; challenger: { macro_f1: number } }> };
    const fbSlice = gateReport.slices.find((s) => s.name === 'feedback_val');
    report.gate = {
      verdict: blessing.verdict,
      macro_f1_diff: blessing.macro_f1_diff,
      failures: blessing.failures,
      feedback: fbSlice ? { champion: fbSlice.champion.macro_f1, challenger: fbSlice.challenger.macro_f1 } : null,
    };
    const d = blessing.macro_f1_diff;
    return {
      value: null,
      ok: blessing.verdict === 'blessed',
      summary:
        `${blessing.verdict.toUpperCase()}` +
        (d ? `: mean macro-F1 Δ ${d.value >= 0 ? '+' : ''}${d.value.toFixed(4)} (CI [${d.lower.toFixed(4)}, ${d.upper.toFixed(4)}])` : '') +
        (fbSlice ? `, feedback set ${fbSlice.champion.macro_f1.toFixed(3)} → ${fbSlice.challenger.macro_f1.toFixed(3)}` : '') +
        (blessing.failures.length ? `; ${blessing.failures.length} failed check(s): ${blessing.failures[0]}${blessing.failures.length > 1 ? ' …' : ''}` : ''),
    };
  });
  if (blessing.verdict !== 'blessed' && !opts.keepRefused) {
    report.outcome = 'refused';
    report.next.push(`nothing was published; the full report is in ${relative(REPO_ROOT, run.recordPath)} (blessing.report)`);
    report.next.push('to keep the model anyway: npm run retrain -- --keep-refused … (published, never put on the channel by this command)');
    return report;
  }

  const bundle = report.run!.bundle!;
  const published = await step('publish', `publish ${version} (signed)`, async () => {
    const r = await publishModel({ dir: bundle, url: base, publishToken: opts.tokens.publish, releaseKey: opts.releaseKey, log: () => {} });
    report.published = { version: r.version, status: r.status, signed_by: r.signed_by };
    return {
      value: r,
      summary: `${r.status === 'published' ? 'published' : 'already published'} ${r.version}${r.uploaded.length ? ` (uploaded ${r.uploaded.join(', ')})` : ''}${r.signed_by ? `, signed by ${r.signed_by}` : ', UNSIGNED: installs will refuse it'}`,
    };
  });

  if (blessing.verdict !== 'blessed') {
    report.outcome = 'published';
    report.next.push(`${version} was refused by the gate and is published only; to ship it anyway: npm run publish-model -- ${relative(REPO_ROOT, bundle)} --channel ${channel} --force-reason "…"`);
    return report;
  }
  if (percent === 0) {
    report.outcome = 'published';
    report.next.push(`start a canary: npm run rollout -- --version ${version} --percent 10${channel === 'stable' ? '' : ` --channel ${channel}`}`);
    return report;
  }

  await step('canary', view ? `canary: ${version} to ${percent}% of ${channel}` : `promote ${version}: ${channel} has no version yet`, async () => {
    const auth = { Authorization: `Bearer ${opts.tokens.promote}`, 'Content-Type': 'application/json' };
    if (!view) {
      const res = await fetch(`${base}/v1/channels/${channel}`, { method: 'POST', headers: auth, body: JSON.stringify({ version: published.version }) });
      const body = (await res.json()) as unknown;
      if (res.status !== 200) throw new RetrainError(`promoting ${version} on ${channel}: HTTP ${res.status} ${errorText(body)}`);
      report.outcome = 'promoted';
      return { value: null, summary: `${channel} now serves ${version} (its first version)` };
    }
    // The same step as `npm run rollout -- --version V --percent P` (scripts/rollout.ts).
    const answer = await rollout({ url: base, token: opts.tokens.promote, channel, version: published.version, percent, log: () => {} });
    if (answer.candidate?.version !== published.version) throw new RetrainError(`the canary of ${version} did not start on ${channel} (outcome ${answer.outcome})`);
    report.canary = { version: published.version, percent: answer.candidate.percent, stable: answer.version };
    report.outcome = 'canary';
    return { value: null, summary: `channel ${channel}: ${view.stable} stays stable, ${version} goes to ${percent}% of installs (the hourly job rolls it back by itself if it does worse)` };
  });
  if (report.outcome === 'canary') {
    const ch = channel === 'stable' ? '' : ` --channel ${channel}`;
    report.next.push(`watch it: the dashboard, GET /v1/events, or npm run rollout -- --status${ch}`);
    report.next.push(`widen it: npm run rollout -- --version ${version} --percent 25${ch}; promote it: --percent 100; stop it: npm run rollout -- --abort${ch}`);
  }
  return report;
}

/** The final report as the operator reads it. */
export function formatRetrainReport(r: RetrainReport): string {
  const lines = ['', `retrain: ${r.outcome.toUpperCase()}`];
  if (r.snapshot) lines.push(`  snapshot   ${r.snapshot.id}  ${r.snapshot.corrections} corrections, ${r.snapshot.samples} samples, hours [${r.snapshot.range.from}, ${r.snapshot.range.to})`);
  lines.push(`  champion   ${r.champion ? `${r.champion.version} (${r.channel})` : 'none'}`);
  if (r.run) lines.push(`  run        ${r.run.id} → ${r.run.version}${r.run.bundle ? ` in ${relative(REPO_ROOT, r.run.bundle) || r.run.bundle}` : ' (not registered)'}`);
  if (r.gate) {
    lines.push(`  gate       ${r.gate.verdict}${r.gate.feedback ? `; feedback set macro-F1 ${r.gate.feedback.champion.toFixed(3)} → ${r.gate.feedback.challenger.toFixed(3)}` : ''}`);
    for (const f of r.gate.failures) lines.push(`             ✗ ${f}`);
  }
  if (r.published) lines.push(`  published  ${r.published.version} (${r.published.status})`);
  if (r.canary) lines.push(`  canary     ${r.canary.version} at ${r.canary.percent}% of ${r.channel} (stable ${r.canary.stable})`);
  lines.push(`  time       ${r.steps.map((s) => `${s.step} ${s.seconds} s`).join(', ')}`);
  for (const x of r.next) lines.push(`  next: ${x}`);
  return lines.join('\n');
}

const USAGE = `usage: npm run retrain -- --backend URL [--channel stable] [--params FILE | --smoke] [--data DIR]
    [--from HOUR --to HOUR | --hours N] [--include-current-hour] [--min-clients N]
    [--version X.Y.Z] [--canary-percent 10] [--keep-refused] [--snapshot ID|DIR] [--json]
    [--read-token-file F] [--token-file F] [--promote-token-file F] [--key-file F]
    [--models-dir DIR] [--cache-dir DIR] [--runs-dir DIR] [--snapshots DIR]
collect → train → gate → publish → canary (docs/MLOPS.md). Tokens: the file options, else READ_TOKEN,
ADMIN_PUBLISH_TOKEN, ADMIN_PROMOTE_TOKEN, else .dev.vars. Exit 0: canary started (or first version
promoted); 1: refused by a gate; 2: error.`;

function cliToken(name: string, file: string | undefined): string | null {
  if (file) return readTokenFile(userPath(file));
  return process.env[name] || readDevVars(join(REPO_ROOT, '.dev.vars')).get(name) || null;
}

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        backend: { type: 'string', default: 'http://127.0.0.1:8787' },
        channel: { type: 'string', default: 'stable' },
        params: { type: 'string' },
        smoke: { type: 'boolean' },
        data: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        hours: { type: 'string' },
        'include-current-hour': { type: 'boolean' },
        'min-clients': { type: 'string' },
        version: { type: 'string' },
        'canary-percent': { type: 'string', default: '10' },
        'keep-refused': { type: 'boolean' },
        snapshot: { type: 'string' },
        json: { type: 'boolean' },
        'read-token-file': { type: 'string' },
        'token-file': { type: 'string' },
        'promote-token-file': { type: 'string' },
        'key-file': { type: 'string' },
        'models-dir': { type: 'string' },
        'cache-dir': { type: 'string' },
        'runs-dir': { type: 'string' },
        snapshots: { type: 'string' },
        token: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    console.error(`retrain: ${(e as Error).message} (npm run retrain -- --help)`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.token !== undefined) {
    console.error('retrain: --token is not accepted (shell history, ps): use --read-token-file, --token-file, --promote-token-file or the environment');
    return 2;
  }
  const number = (name: string, raw: string | undefined): number | undefined => {
    if (raw === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(raw)) throw new RetrainError(`--${name} must be a number, got ${JSON.stringify(raw)}`);
    return Number(raw);
  };
  try {
    const read = cliToken('READ_TOKEN', values['read-token-file']);
    const publish = cliToken('ADMIN_PUBLISH_TOKEN', values['token-file']);
    const promote = cliToken('ADMIN_PROMOTE_TOKEN', values['promote-token-file']);
    const missing = [!read && 'READ_TOKEN (--read-token-file)', !publish && 'ADMIN_PUBLISH_TOKEN (--token-file)', !promote && 'ADMIN_PROMOTE_TOKEN (--promote-token-file)'].filter(Boolean);
    if (missing.length) throw new RetrainError(`missing token(s): ${missing.join(', ')}; or run npm start once to create .dev.vars`);
    const releaseKey = await readReleaseKey(values['key-file'] ? userPath(values['key-file']) : process.env.YTSENT_RELEASE_KEY_FILE || DEFAULT_RELEASE_KEY_FILE);
    const report = await retrain({
      backend: values.backend!,
      channel: values.channel,
      tokens: { read: read!, publish: publish!, promote: promote! },
      releaseKey,
      paramsFile: values.params ? userPath(values.params) : values.smoke ? SMOKE_PARAMS : DEFAULT_PARAMS,
      dataDir: values.data === undefined ? undefined : userPath(values.data),
      from: values.from,
      to: values.to,
      hours: number('hours', values.hours),
      includeCurrentHour: values['include-current-hour'],
      minClients: number('min-clients', values['min-clients']),
      version: values.version,
      canaryPercent: number('canary-percent', values['canary-percent']),
      keepRefused: values['keep-refused'],
      snapshot: values.snapshot?.includes('/') ? userPath(values.snapshot) : values.snapshot,
      modelsDir: values['models-dir'] ? userPath(values['models-dir']) : undefined,
      cacheDir: values['cache-dir'] ? userPath(values['cache-dir']) : undefined,
      // With --cache-dir, every cache of the run lives under it (tests keep the repository clean).
      collectCache: values['cache-dir'] ? join(userPath(values['cache-dir']), 'collect') : undefined,
      championsDir: values['cache-dir'] ? join(userPath(values['cache-dir']), 'champions') : undefined,
      runsDir: values['runs-dir'] ? userPath(values['runs-dir']) : undefined,
      snapshotsRoot: values.snapshots ? userPath(values.snapshots) : undefined,
      log: (line) => console.error(line),
      detail: (line) => console.error(`        ${line}`),
    });
    console.error(formatRetrainReport(report));
    if (values.json) console.log(JSON.stringify(report, null, 2));
    return report.outcome === 'refused' || report.outcome === 'gates_failed' ? 1 : 0;
  } catch (e) {
    console.error(`retrain: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  main().then((code) => {
    process.exitCode = code;
  });
}
