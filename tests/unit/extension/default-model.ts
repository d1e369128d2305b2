/** Stands in for vite's virtual:ytsent-default-model in unit tests: the committed bundle. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultModelDir } from '../../../node-runtime/bundle.js';

const dir = defaultModelDir();
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { version: string };
export const DEFAULT_MODEL = { version: manifest.version, base: `models/${manifest.version}/`, manifest };
