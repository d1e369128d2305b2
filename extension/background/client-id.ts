/**
 * The anonymous client id sent with telemetry batches: random, never derived from the browser, an
 * account or the device, and replaced every week so batches cannot be linked over time.
 */
import { getMeta, setMeta } from '../lib/db.js';

const ROTATE_MS = 7 * 24 * 3600 * 1000;

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export async function clientId(now = Date.now()): Promise<string> {
  const current = await getMeta<{ id: string; created_at: number }>('client_id');
  if (current && now - current.created_at < ROTATE_MS) return current.id;
  const next = { id: randomId(), created_at: now };
  await setMeta('client_id', next);
  return next.id;
}
