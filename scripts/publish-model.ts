/**
 * Publish a model bundle to the registry and (optionally) promote it on a channel.
 *
 *   npm run publish-model -- models/<version> [--channel stable] [--url http://127.0.0.1:8787]
 *                            [--key-file FILE] [--token-file FILE] [--promote-token-file FILE]
 *                            [--force-reason "why an unblessed model must go to stable now"]
 *
 * 1. Verifies the bundle locally: manifest schema (core's parseManifest), every file's size and sha256.
 * 2. Signs the exact manifest.json bytes with the offline release key (core/release-signature.ts;
 *    `npm run keygen` makes one): --key-file, else $YTSENT_RELEASE_KEY_FILE, else
 *    ~/.ytsent/release-key.json. Extensions refuse a model whose signature does not verify against
 *    the key pinned in their build (docs/RELEASES.md).
 * 3. PUT /v1/models/<version> with manifest.json, then PUT /v1/models/<version>/manifest.sig with the
 *    signature (before the version can be visible complete); uploads the files the server says it
 *    lacks; PUT the manifest again to publish (docs/API.md "Publishing a model").
 * 4. POST /v1/channels/<channel> {version}. The default channel (stable) takes only a version the
 *    champion/challenger gate blessed against the current one (docs/MLOPS.md); `--force-reason`
 *    overrides that, and the channel history keeps the reason.
 *
 * Idempotent: re-publishing the identical bundle reports "already published" and succeeds; a different
 * bundle under a published version fails (versions are immutable).
 *
 * Two tokens, one per step (worker/env.ts): ADMIN_PUBLISH_TOKEN uploads, ADMIN_PROMOTE_TOKEN moves
 * the channel. Each comes from its file option, else its environment variable, else the
 * repository's .dev.vars; never from the command line (shell history, `ps`): `--token` is refused.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseManifest, type ModelManifest } from '../core/manifest.js';
import { encodeSignature, parseReleaseKey, signManifest, type ReleaseKeyFile } from '../core/release-signature.js';
import { readDevVars, readTokenFile } from './dev-secrets.js';

export interface PublishOptions {
  /** Bundle directory holding manifest.json and the files it lists. */
  dir: string;
  url: string;
  /** ADMIN_PUBLISH_TOKEN: uploads the manifest and files. */
  publishToken: string;
  /** ADMIN_PROMOTE_TOKEN: needed with `channel`. */
  promoteToken?: string;
  /** Channel to promote the version on; none = publish only. */
  channel?: string;
  /** Promote even if the registry's blessing rule refuses it; the reason goes into the channel history. */
  forceReason?: string;
  /**
   * The release key that signs the manifest. Without one the version is published unsigned, and
   * extensions refuse it: only library callers whose extension trusts no key may leave it out.
   */
  releaseKey?: ReleaseKeyFile;
  log?: (line: string) => void;
}

/** Where `npm run keygen` writes the release key unless told otherwise: outside any repository. */
export const DEFAULT_RELEASE_KEY_FILE = join(homedir(), '.ytsent', 'release-key.json');

/** Reads and checks a release key file (its public half must belong to its secret half). */
export async function readReleaseKey(path: string): Promise<ReleaseKeyFile> {
  if (!existsSync(path)) throw new PublishError(`release key ${path} does not exist: make one with \`npm run keygen\` (docs/RELEASES.md)`);
  try {
    return await parseReleaseKey(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new PublishError(`release key ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export interface PublishResult {
  version: string;
  /** `published`: this call published it; `already_published`: it was, identically. */
  status: 'published' | 'already_published';
  uploaded: string[];
  /** Id of the key that signed the manifest; null: published unsigned. */
  signed_by: string | null;
  channel?: { name: string; changed: boolean; previous: string | null };
}

export class PublishError extends Error {
  override name = 'PublishError';
}

async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Reads and checks a bundle directory; throws PublishError naming the first problem. */
export async function verifyBundle(dir: string): Promise<{ manifest: ModelManifest; manifestBytes: Buffer }> {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw new PublishError(`${manifestPath} does not exist`);
  const manifestBytes = readFileSync(manifestPath);
  let manifest: ModelManifest;
  try {
    manifest = parseManifest(JSON.parse(manifestBytes.toString('utf8')));
  } catch (e) {
    throw new PublishError(`${manifestPath}: ${e instanceof Error ? e.message : String(e)}`);
  }
  for (const f of manifest.files) {
    const path = join(dir, f.path);
    if (!existsSync(path)) throw new PublishError(`${f.path} is listed in the manifest but missing from ${dir}`);
    const size = statSync(path).size;
    if (size !== f.bytes) throw new PublishError(`${f.path}: ${size} bytes on disk, the manifest says ${f.bytes}`);
    const sha = await fileSha256(path);
    if (sha !== f.sha256) throw new PublishError(`${f.path}: sha256 ${sha} on disk, the manifest says ${f.sha256}`);
  }
  return { manifest, manifestBytes };
}

/** A secret from .dev.vars (KEY=VALUE lines, optional quotes), or null. */
export function tokenFromDevVars(path: string, name: string): string | null {
  return readDevVars(path).get(name) || null;
}

interface ApiAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** fetch with a few retries on network errors and 5xx (every call here is idempotent). */
async function call(url: string, init: () => RequestInit): Promise<ApiAnswer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * 2 ** attempt));
    try {
      const res = await fetch(url, init());
      const text = await res.text();
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        body = { raw: text.slice(0, 500) };
      }
      if (res.status >= 500 && attempt < 3) {
        lastError = new PublishError(`${url}: HTTP ${res.status} ${JSON.stringify(body)}`);
        continue;
      }
      return { status: res.status, body };
    } catch (e) {
      lastError = e;
    }
  }
  throw new PublishError(`${url}: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
}

function errorText(a: ApiAnswer): string {
  const err = a.body.error as { code?: string; message?: string; details?: unknown } | undefined;
  return err ? `${err.code}: ${err.message}${err.details ? ` ${JSON.stringify(err.details)}` : ''}` : JSON.stringify(a.body);
}

/** Verify, upload, publish, promote. */
export async function publishModel(options: PublishOptions): Promise<PublishResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const base = options.url.replace(/\/+$/, '');
  if (options.channel && !options.promoteToken) throw new PublishError(`promoting on ${options.channel} needs the promote token (ADMIN_PROMOTE_TOKEN)`);
  const auth = { Authorization: `Bearer ${options.publishToken}` };
  const { manifest, manifestBytes } = await verifyBundle(options.dir);
  const version = manifest.version;
  log(`bundle ${options.dir}: ${manifest.name} ${version}, ${manifest.files.length} file(s) verified`);

  const putManifest = () => call(`${base}/v1/models/${version}`, () => ({ method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json' }, body: new Uint8Array(manifestBytes) }));
  let answer = await putManifest();
  const uploaded: string[] = [];
  let status: PublishResult['status'];
  if (answer.status === 409) {
    throw new PublishError(`version ${version} is already published with a different manifest; versions are immutable: bump the version (${errorText(answer)})`);
  }
  if (answer.status === 401) throw new PublishError(`registry refused the publish token: ${errorText(answer)}`);
  if (options.releaseKey && (answer.status === 200 || answer.status === 201 || answer.status === 202)) {
    const signature = new TextDecoder().decode(encodeSignature(await signManifest(new Uint8Array(manifestBytes), options.releaseKey)));
    const signed = await call(`${base}/v1/models/${version}/manifest.sig`, () => ({ method: 'PUT', headers: { ...auth, 'Content-Type': 'application/json' }, body: signature }));
    if (signed.status === 409) throw new PublishError(`${version} is published with another signature (signed by another key?); versions are immutable: bump the version (${errorText(signed)})`);
    if (signed.status !== 200 && signed.status !== 201) throw new PublishError(`storing the signature of ${version} failed: HTTP ${signed.status} ${errorText(signed)}`);
    log(`signed ${version} with release key ${options.releaseKey.key_id}`);
  } else if (!options.releaseKey) {
    log(`${version} is not signed: extensions will refuse it (sign with a release key: npm run keygen)`);
  }
  if (answer.status === 202) {
    const missing = (answer.body.missing as Array<{ path: string; bytes: number }>) ?? [];
    for (const f of missing) {
      const path = join(options.dir, f.path);
      log(`uploading ${f.path} (${(f.bytes / 1e6).toFixed(2)} MB)`);
      const up = await call(`${base}/v1/models/${version}/files/${f.path.split('/').map(encodeURIComponent).join('/')}`, () => ({
        method: 'PUT',
        headers: { ...auth, 'Content-Type': 'application/octet-stream', 'Content-Length': String(f.bytes) },
        body: new Uint8Array(readFileSync(path)),
      }));
      if (up.status !== 201) throw new PublishError(`upload of ${f.path} failed: HTTP ${up.status} ${errorText(up)}`);
      uploaded.push(f.path);
    }
    answer = await putManifest();
  }
  if (answer.status === 201) {
    status = 'published';
    log(`published ${version}`);
  } else if (answer.status === 200) {
    status = 'already_published';
    log(`${version} is already published (identical manifest): nothing to upload`);
  } else if (answer.status === 409) {
    throw new PublishError(`version ${version} was published concurrently with a different manifest (${errorText(answer)})`);
  } else {
    throw new PublishError(`publishing ${version} failed: HTTP ${answer.status} ${errorText(answer)}`);
  }

  const result: PublishResult = { version, status, uploaded, signed_by: options.releaseKey?.key_id ?? null };
  if (options.channel) {
    const promoted = await call(`${base}/v1/channels/${options.channel}`, () => ({
      method: 'POST',
      headers: { Authorization: `Bearer ${options.promoteToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(options.forceReason ? { version, force: true, reason: options.forceReason } : { version }),
    }));
    if (promoted.status === 409) {
      throw new PublishError(
        `${options.channel} refused ${version}: ${errorText(promoted)}. ${version} stays published; promote it after the gate blesses it, or with --force-reason "…" if it must go out anyway`,
      );
    }
    if (promoted.status !== 200) throw new PublishError(`promoting ${version} on ${options.channel} failed: HTTP ${promoted.status} ${errorText(promoted)}`);
    const changed = promoted.body.changed === true;
    result.channel = { name: options.channel, changed, previous: (promoted.body.previous as string | null) ?? null };
    log(changed ? `channel ${options.channel}: ${result.channel.previous ?? '(new)'} → ${version}` : `channel ${options.channel} already on ${version}`);
  }
  return result;
}

/**
 * A token for the CLI: `--<file option>`, else the environment variable `name`, else `name` in the
 * repository's .dev.vars (written by `npm start`).
 */
function cliToken(name: string, file: string | undefined, repoRoot: string): string | null {
  if (file) return readTokenFile(file);
  return process.env[name] || tokenFromDevVars(join(repoRoot, '.dev.vars'), name);
}

async function main(): Promise<void> {
  const usage =
    'usage: npm run publish-model -- models/<version> [--channel stable] [--url URL] [--key-file FILE] [--token-file FILE] [--promote-token-file FILE] [--force-reason TEXT]\n' +
    `release key: --key-file or $YTSENT_RELEASE_KEY_FILE, else ${DEFAULT_RELEASE_KEY_FILE} (npm run keygen)\n` +
    'tokens: --token-file or $ADMIN_PUBLISH_TOKEN (publishing), --promote-token-file or $ADMIN_PROMOTE_TOKEN (with --channel); else .dev.vars';
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      channel: { type: 'string' },
      url: { type: 'string', default: 'http://127.0.0.1:8787' },
      'key-file': { type: 'string' },
      'token-file': { type: 'string' },
      'promote-token-file': { type: 'string' },
      'force-reason': { type: 'string' },
      // Parsed only to refuse it with a clear message.
      token: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.token !== undefined) {
    console.error('publish-model: --token is not accepted: a token on the command line ends up in shell history and in `ps` output. Use --token-file FILE or $ADMIN_PUBLISH_TOKEN.');
    process.exit(2);
  }
  if (values.help || positionals.length !== 1) {
    console.log(usage);
    process.exit(values.help ? 0 : 2);
  }
  const repoRoot = resolve(import.meta.dirname, '..');
  try {
    const publishToken = cliToken('ADMIN_PUBLISH_TOKEN', values['token-file'], repoRoot);
    if (!publishToken) throw new PublishError('no publish token: use --token-file FILE, set ADMIN_PUBLISH_TOKEN, or run `npm start` once to create .dev.vars');
    const promoteToken = values.channel ? cliToken('ADMIN_PROMOTE_TOKEN', values['promote-token-file'], repoRoot) : null;
    if (values.channel && !promoteToken) throw new PublishError('no promote token for --channel: use --promote-token-file FILE, set ADMIN_PROMOTE_TOKEN, or run `npm start` once');
    const releaseKey = await readReleaseKey(values['key-file'] ?? (process.env.YTSENT_RELEASE_KEY_FILE || DEFAULT_RELEASE_KEY_FILE));
    if (values['force-reason'] !== undefined && !values.channel) throw new PublishError('--force-reason needs --channel');
    await publishModel({
      dir: resolve(positionals[0]!),
      url: values.url!,
      publishToken,
      promoteToken: promoteToken ?? undefined,
      channel: values.channel,
      releaseKey,
      forceReason: values['force-reason'],
    });
  } catch (e) {
    console.error(`publish-model: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(e instanceof PublishError ? 1 : 2);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) await main();
