/**
 * The install id: a random value drawn once per install that picks this install's side of a canary
 * rollout (core/canary.ts hashes it with the channel and the candidate into a bucket in [0, 100)).
 *
 * It never leaves the device: no request carries it, and it is not the telemetry client id (which
 * is sent, and rotates weekly so that batches cannot be linked; a rollout bucket has to stay put for
 * the whole rollout instead). Kept in chrome.storage.local under its own key, apart from the
 * settings, so that no settings message can set it. "Delete all local data" keeps it: it holds
 * nothing about the user, and a new one would move the install to another side of a running
 * rollout. The end-to-end tests set it from the service worker to put an install on a chosen side.
 */

import { LOCAL_KEYS, getLocal, setLocal } from '../lib/storage-keys.js';

export const INSTALL_ID_KEY = LOCAL_KEYS.installId;

/** Accepted stored values: a test may set any short printable string. */
const VALID = /^[\x21-\x7e]{1,128}$/;

function randomId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

/** This install's id, drawn on first use. */
export async function installId(): Promise<string> {
  const stored = await getLocal(INSTALL_ID_KEY);
  if (typeof stored === 'string' && VALID.test(stored)) return stored;
  const id = randomId();
  await setLocal(INSTALL_ID_KEY, id);
  return id;
}
