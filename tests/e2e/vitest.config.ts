/**
 * End-to-end tests: the built extension in Debian's Chromium (playwright-core) against fixture
 * pages that reproduce YouTube's comment DOM, with a real `wrangler dev` backend. Serial: one
 * browser and one wrangler at a time on this small machine.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'e2e',
    root: import.meta.dirname,
    include: ['**/*.test.ts'],
    environment: 'node',
    globalSetup: ['./global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    pool: 'forks',
  },
});
