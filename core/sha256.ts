/**
 * SHA-256 on Web Crypto, the one implementation for the worker (workerd), the extension (service
 * worker, offscreen document, pages) and Node 20+. Node-only code that must hash synchronously or
 * stream files uses node-runtime/sha256.ts, which is Node's own crypto, not a second implementation.
 */

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of bytes. */
export function toHex(buffer: ArrayBuffer | Uint8Array): string {
  const bytes = buffer instanceof Uint8Array ? buffer : new Uint8Array(buffer);
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX[bytes[i]!];
  return out;
}

/** sha256 as lowercase hex of a string (UTF-8) or of bytes. */
export async function sha256Hex(data: string | ArrayBuffer | Uint8Array): Promise<string> {
  // A copy of a view: subtle.digest reads the whole underlying buffer of some runtimes' typed arrays.
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data instanceof Uint8Array ? data.slice() : data;
  return toHex(await crypto.subtle.digest('SHA-256', bytes));
}
