/**
 * `npm run keygen`: a new offline Ed25519 release key (docs/RELEASES.md).
 *
 *   npm run keygen [-- --out FILE] [--keys extension/release-keys.json] [--comment TEXT] [--no-pin] [--force]
 *
 * - The key pair goes to --out, else $YTSENT_RELEASE_KEY_FILE, else ~/.ytsent/release-key.json:
 *   a JSON file of mode 0600 in a directory of mode 0700, never inside this repository (refused),
 *   never overwritten unless --force. Whoever holds it can ship a model to every install: keep it
 *   offline and backed up; `npm run publish-model` reads it to sign.
 * - The public half is printed and added to extension/release-keys.json (--keys; --no-pin skips
 *   it), the list every extension build pins. Commit that file and build a release: from then on
 *   that build accepts models signed with this key (and any other key still in the list).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateReleaseKey, parseReleaseKey, pinnedKeyOf, PinnedKeySchema, type PinnedKey, type ReleaseKeyFile } from '../core/release-signature.js';
import { DEFAULT_RELEASE_KEY_FILE } from './publish-model.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..');
export const PINNED_KEYS_FILE = join(REPO_ROOT, 'extension', 'release-keys.json');

export class KeygenError extends Error {
  override name = 'KeygenError';
}

export interface KeygenOptions {
  /** Where the key pair is written. */
  out: string;
  /** The pinned key list to add the public half to; null: none. */
  keys: string | null;
  comment?: string;
  force?: boolean;
  now?: Date;
}

/** True when `path` lies inside `dir`. */
function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/** Makes and stores a key pair; returns it and the pinned entry (if one was added). */
export async function keygen(options: KeygenOptions): Promise<{ key: ReleaseKeyFile; pinned: PinnedKey | null }> {
  const out = resolve(options.out);
  if (inside(REPO_ROOT, out)) throw new KeygenError(`${out} is inside the repository: the secret key must never be committed; write it elsewhere (default ${DEFAULT_RELEASE_KEY_FILE})`);
  if (existsSync(out) && !options.force) throw new KeygenError(`${out} exists: a key is never overwritten by accident (--force replaces it; keep the old one if releases were signed with it)`);
  const key = await generateReleaseKey(options.now);
  mkdirSync(dirname(out), { recursive: true, mode: 0o700 });
  writeFileSync(out, JSON.stringify(key, null, 2) + '\n', { mode: 0o600, flag: options.force ? 'w' : 'wx' });
  // writeFileSync's mode only applies to a new file.
  chmodSync(out, 0o600);

  let pinned: PinnedKey | null = null;
  if (options.keys) {
    const list = JSON.parse(readFileSync(options.keys, 'utf8')) as { keys: unknown[] };
    const keys = list.keys.map((k) => PinnedKeySchema.parse(k));
    pinned = pinnedKeyOf(key, options.comment ?? `added by npm run keygen on ${key.created_at.slice(0, 10)}`);
    keys.push(pinned);
    writeFileSync(options.keys, JSON.stringify({ ...list, keys }, null, 2) + '\n');
  }
  return { key, pinned };
}

/** `npm start`'s development key: signs what it publishes locally; pinned in its build only. */
export const DEV_RELEASE_KEY_FILE = join(REPO_ROOT, '.dev-release-key.json');

/**
 * The development release key at `path` (git-ignored, mode 0600), made on first use. It is no
 * release key: `npm start` pins it into its own build through YTSENT_EXTRA_RELEASE_KEYS, and
 * `npm run package` refuses a build that trusts it.
 */
export async function ensureDevReleaseKey(path: string = DEV_RELEASE_KEY_FILE): Promise<{ key: ReleaseKeyFile; created: boolean }> {
  if (existsSync(path)) return { key: await parseReleaseKey(JSON.parse(readFileSync(path, 'utf8'))), created: false };
  const key = await generateReleaseKey();
  writeFileSync(path, JSON.stringify(key, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
  return { key, created: true };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      out: { type: 'string' },
      keys: { type: 'string', default: PINNED_KEYS_FILE },
      comment: { type: 'string' },
      'no-pin': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log('usage: npm run keygen [-- --out FILE] [--keys extension/release-keys.json] [--comment TEXT] [--no-pin] [--force]');
    return;
  }
  const out = values.out ?? (process.env.YTSENT_RELEASE_KEY_FILE || DEFAULT_RELEASE_KEY_FILE);
  try {
    const { key, pinned } = await keygen({ out, keys: values['no-pin'] ? null : values.keys!, comment: values.comment, force: values.force });
    console.log(`release key ${key.key_id}
  public key   ${key.public_key}
  key pair     ${resolve(out)} (mode 0600: keep it offline and backed up; never commit it)
  pinned       ${pinned ? `${relative(process.cwd(), values.keys!)} (commit it, then build and ship the extension)` : 'no (--no-pin)'}
Sign releases with it: npm run publish-model -- models/<version> --key-file ${resolve(out)}`);
  } catch (e) {
    console.error(`keygen: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) await main();
