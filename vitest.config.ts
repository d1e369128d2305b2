/**
 * Test projects. `npm test` runs them all:
 * - unit: core, training, model-export, CLIs, extension logic (Node, fake-indexeddb);
 * - every `tests/<suite>/vitest.config.*` joins as its own project (worker tests in workerd,
 *   end-to-end tests against wrangler dev and Chromium).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      'tests/*/vitest.config.{ts,mts}',
    ],
  },
});
