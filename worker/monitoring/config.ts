/**
 * Thresholds of live monitoring: when the hourly job rolls a canary back and when it recommends
 * retraining. Each is a wrangler.toml var (strings, parsed and range-checked once per isolate by
 * worker/env.ts `loadConfig`: a bad value makes every route answer 500 misconfigured rather than
 * run with a silent default). docs/API.md "Live monitoring" explains each decision.
 */
import { ConfigError } from '../lib/errors.js';

/** The vars read here (worker/env.ts's Env has them all; this module does not import it, so no cycle). */
type VarName = 'CANARY_WINDOW_HOURS' | 'CANARY_BAD_WINDOWS' | 'CANARY_MIN_SAMPLES' | 'CANARY_Z' | 'CANARY_MIN_DELTA' | 'RETRAIN_PERSIST_HOURS' | 'RETRAIN_QUALITY_FLOOR' | 'RETRAIN_COOLDOWN_HOURS';
type Vars = { readonly [K in VarName]?: string };

export interface MonitoringConfig {
  /** Length of one canary comparison window, whole hours (windows are aligned blocks of UTC hours). */
  canaryWindowHours: number;
  /** Consecutive bad windows (windows without enough data skipped) that roll a candidate back. */
  canaryBadWindows: number;
  /** Scored comments each arm needs in a window (text-consent samples) for its correction rates to be compared. */
  canaryMinSamples: number;
  /** One-sided z the candidate's correction rate must exceed stable's by (2.326: p < 0.01). */
  canaryZ: number;
  /** ...and by at least this much absolutely (0.01: one more correction per 100 comments). */
  canaryMinDelta: number;
  /** Hourly reports in a row that must show drift, or quality below the floor, to recommend retraining. */
  retrainPersistHours: number;
  /** Quality floor: retrain when the 95 % upper bound of 1 − correction rate is below it. */
  retrainQualityFloor: number;
  /** A version gets at most one retraining recommendation per this many hours. */
  retrainCooldownHours: number;
}

/** Defaults, as documented in wrangler.toml and docs/API.md. */
export const MONITORING_DEFAULTS: MonitoringConfig = {
  canaryWindowHours: 1,
  canaryBadWindows: 3,
  canaryMinSamples: 200,
  canaryZ: 2.326,
  canaryMinDelta: 0.01,
  retrainPersistHours: 6,
  retrainQualityFloor: 0.95,
  retrainCooldownHours: 24,
};

function floatVar(env: Vars, name: VarName, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (typeof raw !== 'string' || !/^\d+(?:\.\d+)?$/.test(raw.trim())) throw new ConfigError(`${String(name)} must be a decimal number, got ${JSON.stringify(raw)}`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(`${String(name)} must be in [${min}, ${max}], got ${value}`);
  return value;
}

type IntVar<E> = (env: E, name: VarName, fallback: number, min: number, max: number) => number;

/** Parses the monitoring vars of `env` (integers with worker/env.ts's own parser). */
export function loadMonitoringConfig<E extends Vars>(env: E, intVar: IntVar<E>): MonitoringConfig {
  const d = MONITORING_DEFAULTS;
  return {
    canaryWindowHours: intVar(env, 'CANARY_WINDOW_HOURS', d.canaryWindowHours, 1, 24),
    canaryBadWindows: intVar(env, 'CANARY_BAD_WINDOWS', d.canaryBadWindows, 1, 168),
    canaryMinSamples: intVar(env, 'CANARY_MIN_SAMPLES', d.canaryMinSamples, 1, 1_000_000_000),
    canaryZ: floatVar(env, 'CANARY_Z', d.canaryZ, 0, 10),
    canaryMinDelta: floatVar(env, 'CANARY_MIN_DELTA', d.canaryMinDelta, 0, 1),
    retrainPersistHours: intVar(env, 'RETRAIN_PERSIST_HOURS', d.retrainPersistHours, 1, 168),
    retrainQualityFloor: floatVar(env, 'RETRAIN_QUALITY_FLOOR', d.retrainQualityFloor, 0, 1),
    retrainCooldownHours: intVar(env, 'RETRAIN_COOLDOWN_HOURS', d.retrainCooldownHours, 1, 720),
  };
}
