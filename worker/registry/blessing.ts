/**
 * The blessing rule: which version may become the one the default channel (`stable`) serves.
 *
 * The champion/challenger gate (training/champion.ts) compares a new model with the one on the
 * default channel on the same data and writes its verdict into the new model's manifest
 * (core/manifest.ts `blessing`), before the manifest is signed. A version replaces the default
 * channel's version only when
 * - its blessing says `blessed`, and
 * - it was blessed against exactly the version being replaced (same version, same manifest
 *   sha256): a blessing against an older champion says nothing about the current one;
 * or when
 * - the channel serves nothing yet (the first version: there is no champion to compare with), or
 * - the version was served on this channel before (going back to it is a rollback in effect).
 *
 * Anything else is refused with 409 unless the admin forces it (`force: true` with a reason),
 * which the channel history records with the blessing status the promotion overrode. Other
 * channels (beta, canary candidates) take any published version: the rule guards what every
 * install gets by default. This module decides only; the routes (and any other code that changes
 * which version a default channel serves) call {@link checkPromotion} and record its status.
 */
import type { ModelManifest } from '../../core/manifest.js';
import { ApiError } from '../lib/errors.js';

/** What the history records about the blessing of a promoted version. */
export type BlessingStatus =
  /** Blessed against the version it replaced. */
  | 'blessed'
  /** The channel served nothing before. */
  | 'first'
  /** The version was served on this channel before. */
  | 'previously_served'
  /** Refused by the gate. */
  | 'refused'
  /** No blessing in the manifest (a bundle made before the gate, or never gated). */
  | 'missing'
  /** Blessed, but against another version than the one it replaces. */
  | 'stale';

export interface PromotionCheck {
  allowed: boolean;
  status: BlessingStatus;
  /** Why not, in words (empty when allowed). */
  reason: string;
}

export interface PromotionTarget {
  version: string;
  manifest: ModelManifest;
}

export interface ChannelServing {
  /** The version the channel serves now (null: none yet). */
  version: string | null;
  /** sha256 of that version's stored manifest bytes (null when unknown). */
  manifestSha256: string | null;
  /** Every version the channel has served (its rollback stack and history). */
  served: ReadonlySet<string>;
}

/** Whether `target` may become what the default channel serves, and the status to record. */
export function checkPromotion(target: PromotionTarget, current: ChannelServing): PromotionCheck {
  if (current.version === null) return { allowed: true, status: 'first', reason: '' };
  if (current.served.has(target.version)) return { allowed: true, status: 'previously_served', reason: '' };
  const blessing = target.manifest.blessing;
  if (!blessing) {
    return { allowed: false, status: 'missing', reason: `${target.version} has no blessing: run the champion/challenger gate against ${current.version} (npm run retrain, docs/MLOPS.md)` };
  }
  if (blessing.verdict !== 'blessed') {
    const why = blessing.failures.slice(0, 3).join('; ');
    return {
      allowed: false,
      status: 'refused',
      reason: `the gate refused ${target.version} against ${blessing.champion?.version ?? 'no champion'}${why ? `: ${why}` : ''}${blessing.failures.length > 3 ? ` (and ${blessing.failures.length - 3} more)` : ''}`,
    };
  }
  const champion = blessing.champion;
  if (!champion || champion.version !== current.version || (current.manifestSha256 !== null && champion.manifest_sha256 !== current.manifestSha256)) {
    return {
      allowed: false,
      status: 'stale',
      reason: `${target.version} was blessed against ${champion ? champion.version : 'no champion'}, but the channel serves ${current.version}: gate it again against ${current.version}`,
    };
  }
  return { allowed: true, status: 'blessed', reason: '' };
}

/**
 * Applies the rule: returns the status to record, or throws 409 (`not_blessed`, `blessing_stale`)
 * when the promotion is refused and not forced.
 */
export function enforcePromotion(channel: string, target: PromotionTarget, current: ChannelServing, force: boolean): PromotionCheck {
  const check = checkPromotion(target, current);
  if (check.allowed || force) return check;
  const code = check.status === 'stale' ? 'blessing_stale' : 'not_blessed';
  throw new ApiError(409, code, `refusing to promote ${target.version} on ${channel}: ${check.reason}. An admin may override with {"force": true, "reason": "..."}`, [
    { path: 'version', message: `blessing ${check.status}` },
  ]);
}
