/** Default locations used by the pipeline and its CLIs (all overridable by flags). */
import { join } from 'node:path';
import { MODELS_DIR, REPO_ROOT } from '../node-runtime/bundle.js';

export const DEFAULT_PARAMS = join(REPO_ROOT, 'training', 'params.yaml');
export const SMOKE_PARAMS = join(REPO_ROOT, 'training', 'params.smoke.yaml');
export const DEFAULT_CACHE_DIR = join(REPO_ROOT, '.cache', 'pipeline');
export const DEFAULT_RUNS_DIR = join(REPO_ROOT, 'training', 'runs');
export { MODELS_DIR, REPO_ROOT };
