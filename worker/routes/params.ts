/** Path and query parameters validated with core's schemas (400 naming the parameter). */
import { ChannelSchema } from '../../core/wire.js';
import { SemverSchema } from '../../core/manifest.js';
import { badRequest } from '../lib/errors.js';

export function versionParam(value: string | undefined, name = 'version'): string {
  const r = SemverSchema.safeParse(value);
  if (!r.success) throw badRequest('invalid_version', `${name} must be a semantic version like 1.2.3`, [{ path: name, message: r.error.issues[0]?.message ?? 'invalid' }]);
  return r.data;
}

export function channelParam(value: string | undefined): string {
  const r = ChannelSchema.safeParse(value);
  if (!r.success) throw badRequest('invalid_channel', 'channel must be 1-32 characters of [a-z0-9-]', [{ path: 'channel', message: r.error.issues[0]?.message ?? 'invalid' }]);
  return r.data;
}

/** A positive integer query parameter within [min, max], or the default when absent. */
export function intQuery(value: string | undefined, name: string, fallback: number, min: number, max: number, suffix = ''): number {
  if (value === undefined || value === '') return fallback;
  const stripped = suffix && value.endsWith(suffix) ? value.slice(0, -suffix.length) : value;
  if (!/^\d{1,9}$/.test(stripped)) throw badRequest('invalid_query', `${name} must be an integer`, [{ path: name, message: 'must be an integer' }]);
  const n = Number(stripped);
  if (n < min || n > max) throw badRequest('invalid_query', `${name} must be in [${min}, ${max}]`, [{ path: name, message: `must be in [${min}, ${max}]` }]);
  return n;
}
