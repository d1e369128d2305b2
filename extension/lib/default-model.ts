/** The model bundled with the extension (the newest committed models/<version>, see vite.config.ts). */
import { DEFAULT_MODEL } from 'virtual:ytsent-default-model';
import type { ModelManifest } from '../../core/manifest.js';

export const BUNDLED = DEFAULT_MODEL as { version: string; base: string; manifest: ModelManifest };
