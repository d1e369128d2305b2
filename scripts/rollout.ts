/**
 * Canary rollouts from the command line (POST /v1/channels/:channel/rollout, docs/API.md).
 *
 *   npm run rollout -- --version 2.1.0 --percent 5        start: 5 % of installs on stable get 2.1.0
 *   npm run rollout -- --version 2.1.0 --percent 25       step up (or down)
 *   npm run rollout -- --version 2.1.0 --percent 100      promote: 2.1.0 becomes stable, rollout over
 *   npm run rollout -- --abort                            back to stable (percent 0 for the candidate)
 *   npm run rollout -- --status                           stable, candidate, share, recent history
 *
 *   [--channel stable] [--url http://127.0.0.1:8787] [--token-file FILE] [--force-reason TEXT]
 *
 * Each install picks its side by a hash of its own install id, so a step only ever adds installs
 * to the candidate (an install in the 5 % stays in the 25 %). The hourly job rolls a candidate
 * back by itself when it does worse than stable (docs/API.md "Live monitoring"). Every change,
 * automatic or not, is in the channel history (`--status`).
 *
 * The promote token comes from --token-file, else $ADMIN_PROMOTE_TOKEN, else the repository's
 * .dev.vars (written by `npm start`); never from the command line: `--token` is refused. On the
 * default channel a step that puts a version in front of installs (the start, and 100 %) needs a
 * version the champion/challenger gate blessed; `--force-reason` overrides, and the history keeps it.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readTokenFile } from './dev-secrets.js';
import { tokenFromDevVars } from './publish-model.js';

export class RolloutError extends Error {
  override name = 'RolloutError';
}

export interface RolloutStep {
  url: string;
  /** ADMIN_PROMOTE_TOKEN. */
  token: string;
  channel: string;
  version: string;
  /** 0 aborts, 100 promotes; steps of 0.01. */
  percent: number;
  forceReason?: string;
  log?: (line: string) => void;
}

export interface RolloutAnswer {
  channel: string;
  version: string;
  candidate: { version: string; percent: number; started_at: string } | null;
  changed: boolean;
  outcome: 'canary' | 'rollout' | 'promote' | 'abort' | 'unchanged';
}

interface HistoryAnswer {
  channel: string;
  version: string;
  candidate: { version: string; percent: number; started_at: string } | null;
  history: Array<{ at: string; action: string; from: string | null; to: string; percent?: number; from_percent?: number; actor?: string; reason?: string }>;
}

function errorText(body: unknown): string {
  const e = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return e ? `${e.code}: ${e.message}` : JSON.stringify(body);
}

async function request(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (e) {
    throw new RolloutError(`cannot reach ${url}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  try {
    return { status: res.status, body: text ? JSON.parse(text) : null };
  } catch {
    return { status: res.status, body: text };
  }
}

/** One rollout step; throws RolloutError with the server's reason when it is refused. */
export async function rollout(step: RolloutStep): Promise<RolloutAnswer> {
  const log = step.log ?? console.log;
  const base = step.url.replace(/\/+$/, '');
  const body = { version: step.version, percent: step.percent, ...(step.forceReason !== undefined ? { force: true, reason: step.forceReason } : {}) };
  const answer = await request(`${base}/v1/channels/${encodeURIComponent(step.channel)}/rollout`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${step.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (answer.status === 401) throw new RolloutError(`the registry refused the promote token: ${errorText(answer.body)}`);
  if (answer.status !== 200) throw new RolloutError(`${step.channel} refused ${step.version} at ${step.percent}%: HTTP ${answer.status} ${errorText(answer.body)}`);
  const result = answer.body as RolloutAnswer;
  const what: Record<RolloutAnswer['outcome'], string> = {
    canary: `rollout started: ${step.version} to ${step.percent}% of ${step.channel} (stable ${result.version})`,
    rollout: `${step.version} now at ${step.percent}% of ${step.channel}`,
    promote: `${step.version} is now the stable version of ${step.channel}; rollout over`,
    abort: `rollout of ${step.version} ended; ${step.channel} serves ${result.version} to every install`,
    unchanged: `nothing to change: ${step.channel} is ${result.candidate ? `at ${result.candidate.percent}% of ${result.candidate.version}` : `on ${result.version}`}`,
  };
  log(what[result.outcome]);
  return result;
}

/** The channel's stable version, rollout and recent history (public route: no token). */
export async function rolloutStatus(url: string, channel: string): Promise<HistoryAnswer> {
  const answer = await request(`${url.replace(/\/+$/, '')}/v1/channels/${encodeURIComponent(channel)}/history`, { headers: { Accept: 'application/json' } });
  if (answer.status !== 200) throw new RolloutError(`channel ${channel}: HTTP ${answer.status} ${errorText(answer.body)}`);
  return answer.body as HistoryAnswer;
}

function printStatus(s: HistoryAnswer): void {
  console.log(`channel ${s.channel}: stable ${s.version}`);
  console.log(s.candidate ? `rollout: ${s.candidate.version} to ${s.candidate.percent}% of installs since ${s.candidate.started_at}` : 'no rollout in progress');
  console.log('recent changes:');
  for (const e of s.history.slice(-10)) {
    const share = e.percent !== undefined ? ` ${e.from_percent !== undefined ? `${e.from_percent}% → ` : ''}${e.percent}%` : '';
    console.log(`  ${e.at}  ${e.action.padEnd(13)} ${e.from ?? '(none)'} → ${e.to}${share}${e.actor ? ` by ${e.actor}` : ''}${e.reason ? `: ${e.reason}` : ''}`);
  }
}

async function main(): Promise<void> {
  const usage =
    'usage: npm run rollout -- --version V --percent P | --abort | --status  [--channel stable] [--url URL] [--token-file FILE] [--force-reason TEXT]\n' +
    'token: --token-file or $ADMIN_PROMOTE_TOKEN, else .dev.vars';
  const { values } = parseArgs({
    options: {
      channel: { type: 'string', default: 'stable' },
      url: { type: 'string', default: 'http://127.0.0.1:8787' },
      version: { type: 'string' },
      percent: { type: 'string' },
      abort: { type: 'boolean' },
      status: { type: 'boolean' },
      'token-file': { type: 'string' },
      'force-reason': { type: 'string' },
      // Parsed only to refuse it with a clear message.
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.token !== undefined) {
    console.error('rollout: --token is not accepted: a token on the command line ends up in shell history and in `ps` output. Use --token-file FILE or $ADMIN_PROMOTE_TOKEN.');
    process.exit(2);
  }
  const modes = [values.status, values.abort, values.version !== undefined || values.percent !== undefined].filter(Boolean).length;
  if (values.help || modes !== 1) {
    console.log(usage);
    process.exit(values.help ? 0 : 2);
  }
  const url = values.url!;
  const channel = values.channel!;
  try {
    if (values.status) return printStatus(await rolloutStatus(url, channel));
    const repoRoot = resolve(import.meta.dirname, '..');
    const token = values['token-file'] ? readTokenFile(values['token-file']) : process.env.ADMIN_PROMOTE_TOKEN || tokenFromDevVars(join(repoRoot, '.dev.vars'), 'ADMIN_PROMOTE_TOKEN');
    if (!token) throw new RolloutError('no promote token: use --token-file FILE, set ADMIN_PROMOTE_TOKEN, or run `npm start` once to create .dev.vars');
    let version = values.version;
    let percent: number;
    if (values.abort) {
      const s = await rolloutStatus(url, channel);
      if (!s.candidate) return console.log(`no rollout in progress on ${channel}: nothing to abort`);
      version = s.candidate.version;
      percent = 0;
    } else {
      if (version === undefined || values.percent === undefined) throw new RolloutError('--version and --percent go together');
      percent = Number(values.percent.replace(/%$/, ''));
      if (!/^\d+(?:\.\d{1,2})?%?$/.test(values.percent) || percent > 100) throw new RolloutError(`--percent must be 0-100 with at most two decimals, got ${values.percent}`);
    }
    await rollout({ url, token, channel, version: version!, percent, forceReason: values['force-reason'] });
  } catch (e) {
    console.error(`rollout: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) await main();
