/**
 * The MLOps loop end to end on a real `wrangler dev` (docs/MLOPS.md), with the smoke training
 * configuration on the fixture data folder (tests/support/mini-data.ts) so it fits the suite:
 *
 * 1. A champion trained without feedback is on stable. Simulated installs see a shifted stream
 *    (tests/support/shifted-stream.ts: an invented slang the model never saw) and send what the
 *    extension sends: hourly aggregates of the champion's predictions, text samples, and
 *    corrections drawn from the true labels, three installs on three networks per text.
 * 2. The hourly job reports drift and raises a retraining recommendation, both delivered to a
 *    signed webhook.
 * 3. `npm run retrain` (the CLI, as an operator runs it): collect → train → gate → publish → canary.
 *    The challenger is blessed, scores far better on the held-out feedback, is signed, and goes to
 *    10% of installs.
 * 4. Installs pick their side by install-id hash; the hourly job compares the arms and keeps the
 *    canary; `npm run rollout` promotes it (the registry checks its blessing).
 * 5. A second retrain whose challenger lost a source (UMSAB weight 0) is refused by the gate:
 *    nothing published, stable unchanged.
 * 6. A third retrain passes the gate and goes to canary, but its installs correct most of what it
 *    shows them; the hourly job rolls it back by itself, says why, and fires the webhook.
 *
 * The Worker runs on the real clock (wrangler dev cannot be given another), so every step that
 * sends telemetry and then runs the hourly job first makes sure the hour will not end in between
 * (awayFromHourEnd), and the job folds the hour in progress (DRIFT_INCLUDE_CURRENT_HOUR).
 */
import { execFile } from 'node:child_process';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToAggregate, emptyAggregate } from '../../core/aggregates.js';
import { pickVersion, type RolloutDoc } from '../../core/canary.js';
import { LABELS, type Label } from '../../core/labels.js';
import { generateReleaseKey, pinnedKeyOf, verifyManifestSignature, type ReleaseKeyFile } from '../../core/release-signature.js';
import { tokenBuckets } from '../../core/token-buckets.js';
import { hourFloor, HOUR_MS } from '../../core/wire.js';
import { createNodeScorer, REPO_ROOT } from '../../node-runtime/bundle.js';
import { publishModel } from '../../scripts/publish-model.js';
import type { RetrainReport } from '../../scripts/retrain.js';
import { freePort, startWranglerDev, type WranglerDev } from '../../scripts/wrangler-dev.js';
import { testSecrets } from '../../scripts/dev-secrets.js';
import { runPipeline } from '../../training/pipeline.js';
import { MLOPS_PARAMS, writeMiniData } from '../support/mini-data.js';
import { shiftedStream, type StreamComment } from '../support/shifted-stream.js';
import { awayFromHourEnd, untilStored } from './helpers.js';

const run = promisify(execFile);
const SECRETS = testSecrets('mlops');
const WEBHOOK_SECRET = 'mlops-webhook-secret-0123456789abcdef0123';
const STREAM = shiftedStream(300);
const hourKeyOf = (ms: number) => new Date(ms).toISOString().slice(0, 13);

interface Hook {
  event: string | null;
  body: Record<string, unknown>;
}

let tmp: string;
let data: string;
let keyFile: string;
let key: ReleaseKeyFile;
let dev: WranglerDev;
let hooks: Hook[] = [];
let hookServer: Server;
/** Hour the test began in: collect starts an hour before it. */
let startedAt: number;
const timings: Record<string, number> = {};

async function timed<T>(name: string, f: () => Promise<T>): Promise<T> {
  const t = performance.now();
  try {
    return await f();
  } finally {
    timings[name] = Math.round((performance.now() - t) / 100) / 10;
  }
}

let nextIp = 0;
/** A fresh install: its own client id and network (corrections count once per network). */
function install(n = nextIp++) {
  return { clientId: `mlops-install-${String(n).padStart(6, '0')}`, ip: `198.18.${(n >> 8) & 0xff}.${n & 0xff}` };
}

async function post(path: string, body: unknown, who: { clientId: string; ip: string }): Promise<void> {
  const res = await fetch(`${dev.url}${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': who.ip }, body: JSON.stringify(body) });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`${path}: HTTP ${res.status} ${text}`);
  queued++;
}

/** Batches queued so far (every 202): the job and the exports wait until the lanes stored them all. */
let queued = 0;
const allStored = () => untilStored(dev, queued, SECRETS.READ_TOKEN);

const envelope = (who: { clientId: string }, version: string, consent: 'stats' | 'text', items: unknown[]) => ({
  batch_id: crypto.randomUUID(),
  client_id: who.clientId,
  model_version: version,
  extension_version: '0.2.0',
  consent,
  items,
});

interface Scored extends StreamComment {
  predicted: Label;
  score: number;
  lang: string;
}

/** The stream as the bundle in `dir` scores it (what the extension would show). */
async function scoreWith(dir: string, comments: readonly StreamComment[]): Promise<Scored[]> {
  const scorer = await createNodeScorer(dir);
  try {
    const p = await scorer.predict(comments.map((c) => c.text));
    return comments.map((c, i) => ({ ...c, predicted: p[i]!.label, score: p[i]!.score, lang: p[i]!.lang }));
  } finally {
    await scorer.release();
  }
}

/**
 * What one install with consent "text" sends for `comments` scored by `version`: one hourly
 * aggregate (of the hour that just ended), the text samples, and a correction of every comment
 * the model got wrong (`correct` decides which wrong ones the user bothers to correct).
 */
async function installSends(who: ReturnType<typeof install>, version: string, comments: readonly Scored[], correct: (c: Scored) => boolean = () => true): Promise<number> {
  const now = Date.now();
  const agg = emptyAggregate(hourFloor(now) - HOUR_MS);
  for (const c of comments) addToAggregate(agg, { label: c.predicted, confidence: c.score, lang: c.lang, tokens: tokenBuckets(c.text) }, agg.hour_from);
  if (agg.n >= 10) await post('/v1/aggregates', envelope(who, version, 'stats', [agg]), who);
  const ts = hourFloor(now);
  for (let i = 0; i < comments.length; i += 100) {
    await post(
      '/v1/samples',
      envelope(
        who,
        version,
        'text',
        comments.slice(i, i + 100).map((c) => ({ label: c.predicted, score: Math.round(c.score * 1e4) / 1e4, lang: c.lang, ts, text: c.text })),
      ),
      who,
    );
  }
  const corrections = comments.filter((c) => c.predicted !== c.label && correct(c));
  for (let i = 0; i < corrections.length; i += 100) {
    await post(
      '/v1/feedback',
      envelope(
        who,
        version,
        'text',
        corrections.slice(i, i + 100).map((c) => ({ text: c.text, predicted: c.predicted, corrected: c.label, ts })),
      ),
      who,
    );
  }
  return corrections.length;
}

/**
 * The hourly job, run now through POST /v1/admin/drift/run: the same runHourly the cron trigger
 * calls, but answered when it is done (wrangler dev's /__scheduled answers before its work ends).
 */
interface JobRun {
  monitoring: {
    reports: Array<{ model_version: string; samples: number; corrections: number; correction_rate: { value: number } | null }>;
    canaries: Array<{ channel: string; candidate: string; verdict: string; bad_windows: number; rolled_back: boolean }>;
    retrain: Array<{ model_version: string; reasons: string[] }>;
  };
}

/** `n` fresh installs sending at once, six at a time (as many installs would). */
async function eachInstall(n: number, send: (who: ReturnType<typeof install>, i: number) => Promise<void>): Promise<void> {
  const all = Array.from({ length: n }, (_, i) => ({ who: install(), i }));
  for (let k = 0; k < all.length; k += 6) await Promise.all(all.slice(k, k + 6).map(({ who, i }) => send(who, i)));
}

async function cron(): Promise<JobRun> {
  await allStored();
  const res = await fetch(`${dev.url}/v1/admin/drift/run`, { method: 'POST', headers: { Authorization: `Bearer ${SECRETS.ADMIN_PROMOTE_TOKEN}` } });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  return JSON.parse(text) as JobRun;
}

/** Webhook calls arrive from the job's own requests: wait (at most 5 s) for one of `event`. */
async function hook(event: string): Promise<Hook> {
  for (let i = 0; i < 100; i++) {
    const found = hooks.find((h) => (h.event ?? h.body.event) === event);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${event} webhook call; got ${JSON.stringify(hooks.map((h) => h.event ?? h.body.event))}`);
}

const read = async <T>(path: string): Promise<T> => {
  const res = await fetch(`${dev.url}${path}`, { headers: { Authorization: `Bearer ${SECRETS.READ_TOKEN}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as T;
};

type ChannelHistory = {
  version: string;
  candidate: { version: string; percent: number } | null;
  history: Array<{ action: string; from: string | null; to: string; blessing?: string; reason?: string; actor?: string; forced?: unknown }>;
};
const channel = () => read<ChannelHistory>('/v1/channels/stable/history');

/** `npm run retrain` as a child process, as an operator runs it; the report from `--json`. */
async function retrainCli(args: string[]): Promise<{ code: number; report: RetrainReport; stderr: string }> {
  await allStored();
  const argv = [
    '--import',
    'tsx',
    join(REPO_ROOT, 'scripts', 'retrain.ts'),
    '--backend',
    dev.url,
    '--params',
    MLOPS_PARAMS,
    '--data',
    data,
    '--from',
    hourKeyOf(hourFloor(startedAt) - HOUR_MS),
    '--include-current-hour',
    '--models-dir',
    join(tmp, 'models'),
    '--cache-dir',
    join(tmp, 'cache'),
    '--runs-dir',
    join(tmp, 'runs'),
    '--snapshots',
    join(tmp, 'snapshots'),
    '--key-file',
    keyFile,
    '--json',
    ...args,
  ];
  const env = { ...process.env, READ_TOKEN: SECRETS.READ_TOKEN, ADMIN_PUBLISH_TOKEN: SECRETS.ADMIN_PUBLISH_TOKEN, ADMIN_PROMOTE_TOKEN: SECRETS.ADMIN_PROMOTE_TOKEN };
  try {
    const { stdout, stderr } = await run(process.execPath, argv, { cwd: REPO_ROOT, env, maxBuffer: 16 << 20 });
    return { code: 0, report: JSON.parse(stdout) as RetrainReport, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    if (typeof err.code !== 'number' || !err.stdout) throw new Error(`retrain failed to run: ${err.stderr ?? String(e)}`);
    return { code: err.code, report: JSON.parse(err.stdout) as RetrainReport, stderr: err.stderr ?? '' };
  }
}

beforeAll(async () => {
  startedAt = Date.now();
  tmp = mkdtempSync(join(tmpdir(), 'ytsent-mlops-'));
  data = writeMiniData(join(tmp, 'data'));
  key = await generateReleaseKey();
  keyFile = join(tmp, 'release-key.json');
  writeFileSync(keyFile, JSON.stringify(key), { mode: 0o600 });

  // The alert webhook's receiver: keeps every call whose signature verifies, refuses the others.
  hookServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const expected = Buffer.from('sha256=' + createHmac('sha256', WEBHOOK_SECRET).update(body).digest('hex'));
      const given = Buffer.from(String(req.headers['x-ytsent-signature-256'] ?? ''));
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return void res.writeHead(401).end();
      hooks.push({ event: (req.headers['x-ytsent-event'] as string | undefined) ?? null, body: JSON.parse(body.toString('utf8')) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  const hookPort = await freePort();
  await new Promise<void>((r) => hookServer.listen(hookPort, '127.0.0.1', r));

  dev = await timed('wrangler dev start', () =>
    startWranglerDev({
      vars: {
        ...SECRETS,
        DRIFT_WEBHOOK_URL: `http://127.0.0.1:${hookPort}/hook`,
        DRIFT_WEBHOOK_SECRET: WEBHOOK_SECRET,
        DRIFT_INCLUDE_CURRENT_HOUR: 'true',
        DRIFT_MIN_SAMPLES: '100',
        // One hour of drift is enough to recommend retraining here (6 by default).
        RETRAIN_PERSIST_HOURS: '1',
        // One bad window rolls a canary back (3 by default); the arms here are a few hundred comments.
        CANARY_BAD_WINDOWS: '1',
        CANARY_MIN_SAMPLES: '30',
        METRICS_FLUSH_MS: '0',
      },
    }),
  );

  // The champion: trained on the public data only, published signed, the first version on stable.
  await timed('train champion', async () => {
    const champion = await runPipeline({
      paramsFile: MLOPS_PARAMS,
      dataDir: data,
      cacheDir: join(tmp, 'cache'),
      modelsDir: join(tmp, 'models'),
      runsDir: join(tmp, 'runs'),
      modelVersion: '1.0.0',
      log: () => {},
    });
    expect(champion.record.status).toBe('registered');
    await publishModel({
      dir: join(tmp, 'models', '1.0.0'),
      url: dev.url,
      publishToken: SECRETS.ADMIN_PUBLISH_TOKEN,
      promoteToken: SECRETS.ADMIN_PROMOTE_TOKEN,
      channel: 'stable',
      releaseKey: key,
      log: () => {},
    });
  });
}, 180_000);

afterAll(async () => {
  await dev?.stop();
  await new Promise((r) => hookServer?.close(r));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  console.log(`mlops end-to-end timings (s): ${JSON.stringify(timings)}`);
});

describe('the MLOps loop on wrangler dev', () => {
  let v2: string;

  it('a shifted stream raises a drift alert and a retraining recommendation', async () => {
    await awayFromHourEnd(90_000);
    const scored = await scoreWith(join(tmp, 'models', '1.0.0'), STREAM);
    const wrong = scored.filter((c) => c.predicted !== c.label).length;
    // The champion has never seen the slang: it is wrong on most of it.
    expect(wrong / scored.length).toBeGreaterThan(0.4);
    await timed('telemetry (shifted stream)', async () => {
      // Three installs on three networks each see the whole stream: every wrong label is corrected
      // by three distinct clients, which is what makes a correction count (CORRECTION_MIN_CLIENTS).
      for (let i = 0; i < 3; i++) await installSends(install(), '1.0.0', scored);
    });
    hooks = [];
    const job = await timed('hourly job (drift)', cron);
    expect(job.monitoring.retrain).toContainEqual(expect.objectContaining({ model_version: '1.0.0', reasons: expect.arrayContaining(['drift']) }));

    const drift = await read<{ verdict: string; n: number; tests: Record<string, { verdict: string }> }>('/v1/drift?model_version=1.0.0');
    expect(drift).toMatchObject({ verdict: 'drift', n: 900 });
    const events = await read<{ events: Array<{ type: string; model_version: string; payload: { event_type: string; client_payload: { reasons: string[] } } }> }>('/v1/events');
    const recommended = events.events.find((e) => e.type === 'retrain-recommended' && e.model_version === '1.0.0');
    expect(recommended?.payload.event_type).toBe('retrain-recommended');
    expect(recommended?.payload.client_payload.reasons).toContain('drift');
    // Both reached the webhook, signed (the receiver refuses anything else).
    expect((await hook('model_drift')).body).toMatchObject({ model_version: '1.0.0', verdict: 'drift' });
    expect((await hook('retrain-recommended')).body).toMatchObject({ event_type: 'retrain-recommended', client_payload: { model_version: '1.0.0', reasons: expect.arrayContaining(['drift']) } });
  });

  it('npm run retrain: collect → train → a blessed challenger, better on the feedback set → signed → canary at 10%', async () => {
    const { code, report, stderr } = await timed('retrain 1 (blessed → canary)', () => retrainCli([]));
    expect(code, stderr).toBe(0);
    expect(report.outcome).toBe('canary');
    expect(report.steps.map((s) => [s.step, s.ok])).toEqual([
      ['collect', true],
      ['champion', true],
      ['train', true],
      ['gate', true],
      ['publish', true],
      ['canary', true],
    ]);
    // The snapshot: the texts three installs agreed on (every one the champion got wrong).
    const wrong = (await scoreWith(join(tmp, 'models', '1.0.0'), STREAM)).filter((c) => c.predicted !== c.label).length;
    expect(report.snapshot!.corrections).toBe(wrong);
    expect(report.champion?.version).toBe('1.0.0');
    v2 = report.run!.version;
    expect(v2).toBe('1.0.1');
    expect(report.gate!.verdict).toBe('blessed');
    expect(report.gate!.feedback!.challenger).toBeGreaterThan(report.gate!.feedback!.champion + 0.25);
    expect(report.canary).toEqual({ version: v2, percent: 10, stable: '1.0.0' });
    // Published signed with the release key, blessing inside the signed manifest.
    const manifest = new Uint8Array(await (await fetch(`${dev.url}/v1/models/${v2}/manifest.json`)).arrayBuffer());
    const sig = new Uint8Array(await (await fetch(`${dev.url}/v1/models/${v2}/manifest.sig`)).arrayBuffer());
    expect(await verifyManifestSignature(manifest, sig, [pinnedKeyOf(key)])).toMatchObject({ ok: true });
    expect(JSON.parse(new TextDecoder().decode(manifest)).blessing).toMatchObject({ verdict: 'blessed', champion: { version: '1.0.0' }, snapshot: report.snapshot!.id });
    // The progress display and the final report.
    expect(stderr).toMatch(/\[1\/6\] collect feedback/);
    expect(stderr).toMatch(/\[6\/6\] canary: 1\.0\.1 to 10% of stable/);
    expect(stderr).toMatch(/retrain: CANARY/);
    const state = await channel();
    expect(state).toMatchObject({ version: '1.0.0', candidate: { version: v2, percent: 10 } });
    expect(state.history.at(-1)).toMatchObject({ action: 'canary', from: '1.0.0', to: v2, blessing: 'blessed' });
  });

  it('the canary is monitored per version, kept, and promoted with npm run rollout', async () => {
    await awayFromHourEnd(60_000);
    const doc = (await (await fetch(`${dev.url}/v1/channels/stable/rollout`)).json()) as RolloutDoc;
    const [onStable, onCandidate] = [await scoreWith(join(tmp, 'models', '1.0.0'), STREAM), await scoreWith(join(tmp, 'models', v2), STREAM)];
    const arms = { stable: 0, candidate: 0 };
    await timed('telemetry (canary)', async () => {
      // 60 installs, each on the side its install id hashes to, each reading 30 comments.
      await eachInstall(60, async (who, i) => {
        const pick = pickVersion(doc, who.clientId);
        arms[pick.arm]++;
        const slice = (pick.arm === 'candidate' ? onCandidate : onStable).slice((i * 30) % 270, ((i * 30) % 270) + 30);
        await installSends(who, pick.version, slice);
      });
    });
    expect(arms.candidate).toBeGreaterThan(0);
    expect(arms.stable).toBeGreaterThan(arms.candidate);
    const job = await timed('hourly job (canary kept)', cron);
    // Each version has its own live report; the candidate is corrected far less often than the
    // champion it is measured against, so the comparison keeps it.
    const report = (v: string) => job.monitoring.reports.find((r) => r.model_version === v)!;
    expect(report(v2).samples).toBe(arms.candidate * 30);
    expect(report(v2).correction_rate!.value).toBeLessThan(report('1.0.0').correction_rate!.value);
    expect(job.monitoring.canaries).toEqual([expect.objectContaining({ channel: 'stable', candidate: v2, verdict: 'ok', rolled_back: false })]);
    const monitoring = await read<{ model_version: string; samples: number }>(`/v1/monitoring?model_version=${v2}`);
    expect(monitoring).toMatchObject({ model_version: v2, samples: arms.candidate * 30 });
    expect((await channel()).candidate?.version).toBe(v2);

    await timed('npm run rollout (promote)', () =>
      run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts', 'rollout.ts'), '--url', dev.url, '--version', v2, '--percent', '100'], {
        cwd: REPO_ROOT,
        env: { ...process.env, ADMIN_PROMOTE_TOKEN: SECRETS.ADMIN_PROMOTE_TOKEN },
      }),
    );
    const state = await channel();
    expect(state).toMatchObject({ version: v2, candidate: null });
    expect(state.history.at(-1)).toMatchObject({ action: 'promote', from: '1.0.0', to: v2, blessing: 'blessed' });
  });

  it('a challenger worse on one slice is refused by the gate: nothing is published, stable stays', async () => {
    const params = join(tmp, 'params.no-umsab.yaml');
    writeFileSync(params, toYaml({ extends: MLOPS_PARAMS, sources: { umsab: 0 } }));
    const snapshot = readdirFirst(join(tmp, 'snapshots'));
    const { code, report } = await timed('retrain 2 (refused)', () => retrainCli(['--params', params, '--snapshot', snapshot]));
    expect(code).toBe(1);
    expect(report.outcome).toBe('refused');
    expect(report.champion?.version).toBe(v2);
    expect(report.gate!.verdict).toBe('refused');
    expect(report.gate!.failures.some((f) => f.startsWith('umsab_val'))).toBe(true);
    expect(report.steps.map((s) => s.step)).toEqual(['collect', 'champion', 'train', 'gate']);
    expect(report.published).toBeNull();
    const listed = (await (await fetch(`${dev.url}/v1/models`)).json()) as { models: Array<{ version: string }> };
    expect(listed.models.map((m) => m.version).sort()).toEqual(['1.0.0', v2]);
    expect(await channel()).toMatchObject({ version: v2, candidate: null });
  });

  it('a candidate that passes the gate but draws many corrections in canary is rolled back automatically', async () => {
    const snapshot = readdirFirst(join(tmp, 'snapshots'));
    const { code, report } = await timed('retrain 3 (blessed → canary)', () => retrainCli(['--snapshot', snapshot, '--version', '1.0.3']));
    expect(code).toBe(0);
    expect(report).toMatchObject({ outcome: 'canary', gate: { verdict: 'blessed' }, canary: { version: '1.0.3', percent: 10, stable: v2 } });

    await awayFromHourEnd(60_000);
    const doc = (await (await fetch(`${dev.url}/v1/channels/stable/rollout`)).json()) as RolloutDoc;
    const scored = await scoreWith(join(tmp, 'models', v2), STREAM);
    hooks = [];
    await timed('telemetry (bad canary)', async () => {
      await eachInstall(60, async (who, i) => {
        const pick = pickVersion(doc, who.clientId);
        const slice = scored.slice((i * 30) % 270, ((i * 30) % 270) + 30);
        // What the candidate shows its installs goes wrong live (something the gate's data did
        // not have): they correct most of it. Stable's installs correct what stable gets wrong.
        const shown = pick.arm === 'candidate' ? slice.map((c, k) => (k % 4 === 3 ? c : { ...c, predicted: LABELS[(LABELS.indexOf(c.label) + 1) % 3]! })) : slice;
        await installSends(who, pick.version, shown);
      });
    });
    const job = await timed('hourly job (rollback)', cron);
    expect(job.monitoring.canaries).toEqual([expect.objectContaining({ candidate: '1.0.3', verdict: 'worse', rolled_back: true })]);
    const state = await channel();
    expect(state).toMatchObject({ version: v2, candidate: null });
    const last = state.history.at(-1)!;
    expect(last).toMatchObject({ action: 'auto_rollback', from: '1.0.3', to: v2, actor: 'cron' });
    expect(last.reason).toMatch(/1\.0\.3 was worse than 1\.0\.1 in 1 consecutive/);
    expect((await hook('canary-rollback')).body).toMatchObject({ event: 'canary_rollback', candidate: '1.0.3', stable: v2 });
  });
});

/** The one snapshot folder under `root` (the tests collect once). */
function readdirFirst(root: string): string {
  const dirs = readdirSync(root).filter((d) => /^[0-9a-f]{64}$/.test(d));
  if (dirs.length !== 1) throw new Error(`expected one snapshot in ${root}, found ${dirs.length}`);
  return join(root, dirs[0]!);
}
