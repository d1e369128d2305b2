/**
 * The public keys whose signatures this build accepts on model manifests (core/release-signature.ts):
 * extension/release-keys.json as committed, plus, in development and test builds only, keys named
 * by YTSENT_EXTRA_RELEASE_KEYS when the extension was built (vite.config.ts; `npm run package`
 * refuses such a build).
 */
import { RELEASE_KEYS } from 'virtual:ytsent-release-keys';
import type { PinnedKey } from '../../core/release-signature.js';

export const PINNED_KEYS: readonly PinnedKey[] = RELEASE_KEYS;
