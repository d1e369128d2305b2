/**
 * User settings, kept in chrome.storage.local (small, synchronous to reason about, and observable
 * from every extension context through chrome.storage.onChanged).
 */
import { z } from 'zod';
import { ChannelSchema } from '../../core/wire.js';
import { LOCAL_KEYS, getLocal, removeLocal, setLocal } from './storage-keys.js';

/** Backend the build was configured for (host permission granted at install). */
export const DEFAULT_BACKEND_URL: string = import.meta.env.VITE_YTSENT_BACKEND ?? 'http://127.0.0.1:8787';

const fields = {
  backend_url: z.url({ protocol: /^https?$/ }),
  channel: ChannelSchema,
  /** Consent 1: anonymous statistics, as on-device hourly aggregates over at least ten comments (docs/PRIVACY.md). */
  consent_stats: z.boolean(),
  /** Consent 2: additionally scrubbed per-comment text and video id (hour-granular), for retraining and corrections. */
  consent_text: z.boolean(),
  /**
   * Where the model runs. auto: n-gram models in the service worker (core's TypeScript forward
   * pass, background/worker-scorer.ts), transformer models on onnxruntime-web with WebGPU when it
   * measures faster than WASM (once per model). wasm, webgpu: onnxruntime-web with that provider,
   * n-gram models included.
   */
  execution: z.enum(['auto', 'wasm', 'webgpu']),
  show_badges: z.boolean(),
};

export const SettingsSchema = z.object({
  backend_url: fields.backend_url.default(DEFAULT_BACKEND_URL),
  channel: fields.channel.default('stable'),
  consent_stats: fields.consent_stats.default(false),
  consent_text: fields.consent_text.default(false),
  execution: fields.execution.default('auto'),
  show_badges: fields.show_badges.default(true),
});

/** A settings change: only the fields given (no defaults, which would silently reset the others). */
export const SettingsPatchSchema = z.object(fields).partial().strict();
export type Settings = z.infer<typeof SettingsSchema>;

const KEY = LOCAL_KEYS.settings;

/**
 * Read on every scoring request, so kept in memory; any change to the stored value (from any
 * extension context) drops the copy.
 */
let remembered: Promise<Settings> | null = null;
let watching = false;

export function getSettings(): Promise<Settings> {
  if (!watching && chrome.storage?.onChanged) {
    watching = true;
    chrome.storage.onChanged.addListener((changes) => {
      if (KEY in changes) remembered = null;
    });
  }
  remembered ??= (async () => {
    const stored = await getLocal(KEY);
    const parsed = SettingsSchema.safeParse(stored ?? {});
    // A corrupt or outdated value falls back to defaults rather than breaking every context.
    return parsed.success ? parsed.data : SettingsSchema.parse({});
  })();
  remembered.catch(() => (remembered = null));
  // A copy: callers must not change the remembered value.
  return remembered.then((s) => ({ ...s }));
}

/** Merge `patch` into the settings; the text consent implies the stats consent. */
export async function updateSettings(patch: Partial<Settings>): Promise<Settings> {
  const next = SettingsSchema.parse({ ...(await getSettings()), ...patch });
  if (next.consent_text) next.consent_stats = true;
  remembered = null;
  await setLocal(KEY, next);
  remembered = null;
  return next;
}

export async function resetSettings(): Promise<Settings> {
  remembered = null;
  await removeLocal(KEY);
  remembered = null;
  return getSettings();
}
