/**
 * The anonymous client id sent with telemetry batches: random, never derived from the browser, an
 * account or the device, and replaced every week so batches cannot be linked over time.
 */
import { getMeta, setMeta } from '../lib/db.js';
import { META_KEYS } from '../lib/storage-keys.js';

const ROTATE_MS = 7 * 24 * 3600 * 1000;

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export async function clientId(now = Date.now()): Promise<string> {
  const current = await getMeta(META_KEYS.clientId);
  if (current && now - current.created_at < ROTATE_MS) return current.id;
  const next = { id: randomId(), created_at: now };
  await setMeta(META_KEYS.clientId, next);
  return next.id;
}
