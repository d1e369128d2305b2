/**
 * Every key the extension stores under, with the type of its value, in one place: the keys of
 * chrome.storage.local, the IndexedDB database and its tables (lib/db.ts declares their indexes),
 * and the keys of the `meta` table. The value types of the meta keys live here too (their modules
 * re-export them), so this module imports nothing from the modules that use it.
 */

/** chrome.storage.local keys. (chrome.storage.session is not used.) */
export const LOCAL_KEYS = {
  /** User settings (lib/settings.ts, parsed with SettingsSchema on every read). */
  settings: 'settings',
  /** This install's canary id (background/install-id.ts); never sent. */
  installId: 'install_id',
} as const;
export type LocalKey = (typeof LOCAL_KEYS)[keyof typeof LOCAL_KEYS];

/** What this version writes under each chrome.storage.local key. */
export interface LocalValues {
  /** lib/settings.ts Settings (a plain object; lib/settings.ts cannot be imported here without a cycle). */
  settings: Record<string, unknown>;
  install_id: string;
}

/**
 * The value stored under `key`. Unknown, not the written type: an older version, a test or a
 * corrupt profile may have put anything there, so every reader validates it.
 */
export async function getLocal(key: LocalKey): Promise<unknown> {
  return (await chrome.storage.local.get(key))[key] as unknown;
}

export async function setLocal<K extends LocalKey>(key: K, value: LocalValues[K]): Promise<void> {
  await chrome.storage.local.set({ [key]: value });
}

export async function removeLocal(key: LocalKey): Promise<void> {
  await chrome.storage.local.remove(key);
}

/** The IndexedDB database (Dexie) and its tables. */
export const DB_NAME = 'ytsent';
export const TABLES = { results: 'results', models: 'models', queue: 'queue', aggregates: 'aggregates', meta: 'meta' } as const;

/** The last update check's outcome (background/updater.ts). */
export interface UpdateResult {
  status: 'up-to-date' | 'updated' | 'rejected' | 'error';
  version?: string;
  active: string;
  detail?: string;
  /** Which side of the channel's rollout this install is on (absent for an old backend or a 304). */
  arm?: 'stable' | 'candidate';
  checked_at: number;
}

/** Where a model runs best on this device, measured once per model (offscreen/engine.ts). */
export interface Calibration {
  chosen: 'wasm' | 'webgpu';
  wasm_ms: number | null;
  webgpu_ms: number | null;
  reason: string;
  at: number;
}

/** The telemetry uploader's backoff (background/telemetry.ts). */
export interface UploadState {
  failures: number;
  next_at: number;
  last_error?: string;
  last_success_at?: number;
}

/** The weekly telemetry client id (background/client-id.ts). */
export interface ClientIdRecord {
  id: string;
  created_at: number;
}

/** Keys of the IndexedDB `meta` table; the functions build keys that carry a variable part. */
export const META_KEYS = {
  clientId: 'client_id',
  uploadState: 'upload_state',
  lastUpdate: 'update:last',
  /** The channel's ETag at the last check, with the install id it was checked for. */
  rolloutEtag: (base: string, channel: string) => `update:rollout-etag:${base}:${channel}` as const,
  /** The channel's ETag at the last check against a backend without rollouts. */
  etag: (base: string, channel: string) => `update:etag:${base}:${channel}` as const,
  calibration: (version: string) => `calibration:${version}` as const,
  counter: (name: string) => `counter:${name}` as const,
} as const;
/** Prefix of the counters' keys (listed together). */
export const COUNTER_PREFIX = 'counter:';

/** What is stored under each `meta` key. */
export interface MetaValues {
  client_id: ClientIdRecord;
  upload_state: UploadState;
  'update:last': UpdateResult;
  [rolloutEtag: `update:rollout-etag:${string}`]: { etag: string; install_id: string };
  [etag: `update:etag:${string}`]: string;
  [calibration: `calibration:${string}`]: Calibration;
  [counter: `counter:${string}`]: number;
}
export type MetaKey = keyof MetaValues;
