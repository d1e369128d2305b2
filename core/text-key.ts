/**
 * The key a score is cached under: model version + normalized text. Shared by the extension's
 * results cache (extension/lib/results-cache.ts) and the Worker's prediction cache
 * (worker/predict/cache.ts), and both score the normalized text, so one comment gets the same
 * answer, and the same cache behaviour, from either.
 */
import { finalize, mixUnit } from './hash.js';

/** Whitespace and Unicode composition do not change a score; they must not miss the cache either. */
export function normalizeForCache(text: string): string {
  return text.normalize('NFC').replace(/\s+/g, ' ').trim();
}

/** 64-bit hash (two 32-bit MurmurHash3 lanes) as 16 hex characters. */
export function textHash(text: string): string {
  let a = 0x9747b28c;
  let b = 0x2f1c3a57;
  for (let i = 0; i < text.length; i++) {
    const u = text.charCodeAt(i);
    a = mixUnit(a, u);
    b = mixUnit(b, u ^ 0x5bd1);
  }
  return finalize(a, text.length).toString(16).padStart(8, '0') + finalize(b, text.length).toString(16).padStart(8, '0');
}

/** `<version>|<textHash>`: a score computed by one model version is never served for another. */
export function cacheKey(modelVersion: string, normalizedText: string): string {
  return `${modelVersion}|${textHash(normalizedText)}`;
}
