/** sha256 as lowercase hex, for bundle files, datasets and cache keys (Node side). */
import { createHash } from 'node:crypto';

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}
