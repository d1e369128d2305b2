/**
 * Bounds on what one extension message may carry. The content script runs inside a YouTube page's
 * renderer, which a compromised page could control: whatever it sends, the service worker and the
 * offscreen document must be able to refuse cheaply (a clear error, before any work). Kept free of
 * zod so the content script, which stays within the bounds, can import it.
 */
export const MESSAGE_LIMITS = {
  /** Comments in one scoring request (the content script sends at most 100 at a time). */
  comments_per_request: 200,
  /**
   * UTF-8 bytes of one comment text. YouTube allows 10,000 characters (at most 30 KB in any script);
   * the models read far less (the n-gram model its first 2,000 characters).
   */
  text_bytes: 32 * 1024,
} as const;

const encoder = new TextEncoder();

/** True when `text` is longer than {@link MESSAGE_LIMITS}.text_bytes in UTF-8. */
export function textTooLong(text: string): boolean {
  const limit = MESSAGE_LIMITS.text_bytes;
  // Every UTF-16 code unit is one to three UTF-8 bytes: most texts are decided without encoding.
  if (text.length * 3 <= limit) return false;
  if (text.length > limit) return true;
  return encoder.encode(text).byteLength > limit;
}

/** `text` cut to at most `maxBytes` UTF-8 bytes, never inside a character. */
export function truncateUtf8(text: string, maxBytes: number = MESSAGE_LIMITS.text_bytes): string {
  if (text.length * 3 <= maxBytes) return text;
  const bytes = encoder.encode(text);
  if (bytes.byteLength <= maxBytes) return text;
  let end = maxBytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
