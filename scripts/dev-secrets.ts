/**
 * The Worker's secrets for local runs: one token per operator role, and the pepper of correction
 * voter ids (worker/env.ts says what each guards; every one must be at least 32 characters).
 *
 * - `npm start` keeps them in `.dev.vars` (git-ignored, mode 0600), creating missing ones with 256
 *   random bits each; `wrangler dev` reads that file by itself.
 * - Tests and benchmarks pass their own fixed values to `wrangler dev` as `--var`s
 *   ({@link testSecrets}), so they never depend on a developer's `.dev.vars`.
 * - CLIs read a token from an environment variable or a file, never from the command line, where
 *   it would end up in shell history and in every user's `ps` output ({@link readTokenFile}).
 */
import { randomBytes } from 'node:crypto';
import { appendFileSync, chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export const SECRET_NAMES = ['ADMIN_PUBLISH_TOKEN', 'ADMIN_PROMOTE_TOKEN', 'READ_TOKEN', 'CLIENT_ID_PEPPER'] as const;
export type SecretName = (typeof SECRET_NAMES)[number];
export type DevSecrets = Record<SecretName, string>;

/** The Worker's minimum (worker/env.ts MIN_SECRET_LENGTH). */
export const MIN_SECRET_LENGTH = 32;

const PURPOSE: Record<SecretName, string> = {
  ADMIN_PUBLISH_TOKEN: 'upload model versions (npm run publish-model)',
  ADMIN_PROMOTE_TOKEN: 'move release channels, run the drift job on demand',
  READ_TOKEN: 'exports, corrections, /metrics, /dashboard, drift history and alerts',
  CLIENT_ID_PEPPER: 'HMAC key of correction voter ids (not a bearer token)',
};

/** Fresh random secrets: 32 random bytes each, base64url (43 characters). */
export function randomSecrets(): DevSecrets {
  return Object.fromEntries(SECRET_NAMES.map((n) => [n, randomBytes(32).toString('base64url')])) as DevSecrets;
}

/**
 * Fixed, distinct, long-enough secrets for a test suite or benchmark (`label` keeps suites apart in
 * logs). Not secret at all: for local test servers only.
 */
export function testSecrets(label: string): DevSecrets {
  const slug = label.replace(/[^A-Za-z0-9_-]/g, '-');
  return Object.fromEntries(SECRET_NAMES.map((n) => [n, `${slug}-${n.toLowerCase().replace(/_/g, '-')}-0123456789abcdef0123456789abcdef`])) as DevSecrets;
}

/** KEY=VALUE lines of a `.dev.vars` file (optional quotes; comments and blank lines skipped). */
export function readDevVars(path: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!existsSync(path)) return out;
  for (const line of readFileSync(path, 'utf8').split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) out.set(m[1]!, m[2]!.replace(/^(['"])(.*)\1$/, '$2'));
  }
  return out;
}

/**
 * The secrets from `.dev.vars`, appending a random value for each that is missing or shorter than
 * the Worker accepts (the last assignment in the file wins, for wrangler as for this reader).
 */
export function ensureDevVars(path: string): { secrets: DevSecrets; created: SecretName[] } {
  const existing = readDevVars(path);
  const fresh = randomSecrets();
  const created = SECRET_NAMES.filter((n) => (existing.get(n) ?? '').length < MIN_SECRET_LENGTH);
  if (created.length > 0) {
    const lines = [
      `# Local secrets for wrangler dev, written by npm start (git-ignored). Each is sent as "Authorization: Bearer <value>"`,
      `# except CLIENT_ID_PEPPER. An old single ADMIN_TOKEN line, if any, is no longer used.`,
      ...created.map((n) => `# ${PURPOSE[n]}\n${n}=${fresh[n]}`),
    ];
    const text = `${lines.join('\n')}\n`;
    if (existsSync(path)) appendFileSync(path, `\n${text}`);
    else writeFileSync(path, text, { mode: 0o600 });
    chmodSync(path, 0o600);
  }
  const secrets = Object.fromEntries(SECRET_NAMES.map((n) => [n, created.includes(n) ? fresh[n] : existing.get(n)!])) as DevSecrets;
  return { secrets, created };
}

/** A token from a file (first line, trimmed): what `--token-file` reads. */
export function readTokenFile(path: string): string {
  if (!existsSync(path)) throw new Error(`token file ${path} does not exist`);
  const token = readFileSync(path, 'utf8').split(/\r?\n/)[0]!.trim();
  if (token === '') throw new Error(`token file ${path} is empty`);
  return token;
}
