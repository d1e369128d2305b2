/**
 * Bindings (wrangler.toml) and the typed view of the string vars and secrets.
 *
 * Vars arrive as strings; {@link loadConfig} parses them once per isolate and env object and fails
 * loudly on nonsense (a misconfigured deployment should not quietly run with defaults): every
 * route then answers 500 `misconfigured` with a generic message, and the reason goes to the log
 * only (it names secrets and their lengths, which are nobody else's business).
 */
import { DEFAULT_THRESHOLDS } from '../core/drift.js';
import { RESEND } from '../core/wire.js';
import { ConfigError } from './lib/errors.js';
import { loadMonitoringConfig, type MonitoringConfig } from './monitoring/config.js';

/**
 * The Worker's secrets: typed as strings by `wrangler types` (from worker/secret-names.env), but
 * possibly missing at run time until `wrangler secret put` (or `.dev.vars` locally) sets them,
 * which {@link loadConfig} reports. Each must be at least MIN_SECRET_LENGTH characters.
 * - ADMIN_PUBLISH_TOKEN: bearer token for uploading model versions (PUT /v1/models/...).
 * - ADMIN_PROMOTE_TOKEN: bearer token for moving channels (promote, rollback) and running the drift job on demand.
 * - READ_TOKEN: bearer token for reading operator data: exports, corrections, metrics, dashboard, drift history and alerts.
 * - CLIENT_ID_PEPPER: key of the HMAC that turns a client id (and a network) into a per-text voter id; never stored.
 * - DRIFT_WEBHOOK_SECRET: key of the HMAC-SHA256 signature on webhook requests (required when DRIFT_WEBHOOK_URL is set).
 */
export type SecretName = 'ADMIN_PUBLISH_TOKEN' | 'ADMIN_PROMOTE_TOKEN' | 'READ_TOKEN' | 'CLIENT_ID_PEPPER' | 'DRIFT_WEBHOOK_SECRET';

/**
 * Bindings and vars as `wrangler types` generates them from wrangler.toml into
 * worker/worker-configuration.d.ts (`npm run types` after changing wrangler.toml or
 * secret-names.env; tests/unit/worker-types.test.ts fails while the committed file is stale), with
 * the secrets optional (see {@link SecretName}). What each binding and var does: wrangler.toml.
 */
export type Env = Omit<Cloudflare.Env, SecretName> & Partial<Pick<Cloudflare.Env, SecretName>>;

export interface Config {
  allowedOrigins: ReadonlySet<string>;
  rateLimitPeriodS: number;
  driftWindowHours: number;
  driftMinSamples: number;
  webhookUrl: string | null;
  /** Local development: fold the hour in progress too, so samples show up in reports at once. */
  driftIncludeCurrentHour: boolean;
  defaultChannel: string;
  sampleMaxAgeMs: number;
  sampleMaxFutureMs: number;
  metricsFlushMs: number;
  /** One token per role, so a leaked publishing token cannot also move channels or read data. */
  tokens: Record<TokenRole, string>;
  clientIdPepper: string;
  webhookSecret: string | null;
  correctionMinClients: number;
  /** Canary comparison and retraining-trigger thresholds. */
  monitoring: MonitoringConfig;
  /** Ingest lanes (one queue and producer binding INGEST_<n> each) and the consumers' dedupe window. */
  ingestLanes: number;
  ingestDedupeHours: number;
}

export type TokenRole = 'publish' | 'promote' | 'read';

/** Shortest accepted secret: 32 characters (a random 24-byte base64url string is exactly that). */
export const MIN_SECRET_LENGTH = 32;

/** The secret that guards each role (names as in wrangler secrets and `.dev.vars`). */
export const TOKEN_VARS = {
  publish: 'ADMIN_PUBLISH_TOKEN',
  promote: 'ADMIN_PROMOTE_TOKEN',
  read: 'READ_TOKEN',
} as const satisfies Record<TokenRole, keyof Env>;

export { ConfigError };

function boolVar(env: Env, name: keyof Env): boolean {
  const raw = (env[name] ?? '') as string;
  if (raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new ConfigError(`${String(name)} must be true or false, got ${JSON.stringify(raw)}`);
}

function intVar(env: Env, name: keyof Env, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim())) throw new ConfigError(`${String(name)} must be an integer, got ${JSON.stringify(raw)}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${String(name)} must be in [${min}, ${max}], got ${value}`);
  return value;
}

function secretVar(env: Env, name: keyof Env): string {
  const raw = env[name];
  if (typeof raw !== 'string' || raw.trim() === '') throw new ConfigError(`secret ${String(name)} is not set`);
  // Secrets are used exactly as given; surrounding whitespace is almost always a copy-paste slip.
  if (raw !== raw.trim()) throw new ConfigError(`secret ${String(name)} has leading or trailing whitespace`);
  if (raw.length < MIN_SECRET_LENGTH) throw new ConfigError(`secret ${String(name)} is shorter than ${MIN_SECRET_LENGTH} characters`);
  return raw;
}

const cache = new WeakMap<Env, Config>();

/** Parsed configuration for `env` (memoized per env object). */
export function loadConfig(env: Env): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const origins = (env.ALLOWED_ORIGINS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const o of origins) {
    // Exact origins only: a wildcard would let any extension read and write telemetry.
    if (!/^(?:chrome-extension:\/\/[a-p]{32}|https?:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?)$/.test(o)) {
      throw new ConfigError(`ALLOWED_ORIGINS entry ${JSON.stringify(o)} is not an exact origin (chrome-extension://<id> or http(s)://host[:port])`);
    }
  }
  const webhook = (env.DRIFT_WEBHOOK_URL ?? '').trim();
  if (webhook && !/^https?:\/\//.test(webhook)) throw new ConfigError('DRIFT_WEBHOOK_URL must be an http(s) URL');
  const channel = (env.DEFAULT_CHANNEL ?? '').trim() || 'stable';
  if (!/^[a-z0-9][a-z0-9-]{0,31}$/.test(channel)) throw new ConfigError('DEFAULT_CHANNEL must be a channel name');
  const tokens = {
    publish: secretVar(env, TOKEN_VARS.publish),
    promote: secretVar(env, TOKEN_VARS.promote),
    read: secretVar(env, TOKEN_VARS.read),
  };
  // One value in two roles would quietly undo the separation.
  if (new Set(Object.values(tokens)).size !== 3) throw new ConfigError(`${Object.values(TOKEN_VARS).join(', ')} must be three different values`);
  const config: Config = {
    allowedOrigins: new Set(origins),
    rateLimitPeriodS: intVar(env, 'RATE_LIMIT_PERIOD_S', 60, 1, 3600),
    driftWindowHours: intVar(env, 'DRIFT_WINDOW_HOURS', 24, 1, 720),
    driftMinSamples: intVar(env, 'DRIFT_MIN_SAMPLES', DEFAULT_THRESHOLDS.min_samples, 1, 1_000_000_000),
    webhookUrl: webhook || null,
    driftIncludeCurrentHour: boolVar(env, 'DRIFT_INCLUDE_CURRENT_HOUR'),
    defaultChannel: channel,
    sampleMaxAgeMs: intVar(env, 'SAMPLE_MAX_AGE_HOURS', 168, 1, 24 * 365) * 3_600_000,
    sampleMaxFutureMs: intVar(env, 'SAMPLE_MAX_FUTURE_S', 600, 0, 86_400) * 1000,
    metricsFlushMs: intVar(env, 'METRICS_FLUSH_MS', 2000, 0, 20_000),
    tokens,
    clientIdPepper: secretVar(env, 'CLIENT_ID_PEPPER'),
    // An unsigned webhook could be forged by anyone who learns its URL: no URL without a secret.
    webhookSecret: webhook ? secretVar(env, 'DRIFT_WEBHOOK_SECRET') : null,
    correctionMinClients: intVar(env, 'CORRECTION_MIN_CLIENTS', 3, 1, 1000),
    monitoring: loadMonitoringConfig(env, intVar),
    ingestLanes: intVar(env, 'INGEST_LANES', 1, 1, 256),
    // Shorter than the extension's resend window (plus clock margin) would store a late resend twice.
    ingestDedupeHours: intVar(env, 'INGEST_DEDUPE_HOURS', 24, RESEND.min_dedupe_hours, 168),
  };
  for (let lane = 0; lane < config.ingestLanes; lane++) {
    // A lane without its producer binding would refuse every batch routed to it.
    if (!ingestQueue(env, lane)) throw new ConfigError(`INGEST_LANES is ${config.ingestLanes} but the queue producer binding INGEST_${lane} is missing (wrangler.toml [[queues.producers]])`);
  }
  if (config.monitoring.canaryWindowHours > config.driftWindowHours) {
    // Canary windows are read from the summaries the drift job folds: only its window is folded.
    throw new ConfigError(`CANARY_WINDOW_HOURS (${config.monitoring.canaryWindowHours}) must not exceed DRIFT_WINDOW_HOURS (${config.driftWindowHours})`);
  }
  cache.set(env, config);
  return config;
}

/** The producer binding of ingest lane `lane` (wrangler.toml names them INGEST_0, INGEST_1, ...), if bound. */
export function ingestQueue(env: Env, lane: number): Queue | null {
  const binding = (env as unknown as Record<string, unknown>)[`INGEST_${lane}`];
  return typeof binding === 'object' && binding !== null && typeof (binding as Queue).send === 'function' ? (binding as Queue) : null;
}

/**
 * The Hono environment every route and middleware shares. It lives here rather than in app.ts so
 * that routes do not import the application that imports them.
 */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Route label for metrics when no route pattern applies (e.g. "preflight"). */
    route: string;
  };
}
