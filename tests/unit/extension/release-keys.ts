/**
 * Stands in for vite's virtual:ytsent-release-keys in unit tests: no key is pinned until a test
 * pins the public half of a key pair it generated itself (never a committed secret key).
 */
import type { PinnedKey } from '../../../core/release-signature.js';

export const RELEASE_KEYS: PinnedKey[] = [];
