/**
 * Test projects. `npm test` runs them all:
 * - unit: core, training, model-export, CLIs, extension logic (Node, fake-indexeddb);
 * - every `tests/<suite>/vitest.config.*` joins as its own project (worker tests in workerd,
 *   end-to-end tests against wrangler dev and Chromium).
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        resolve: {
          // The extension's build-time modules (vite.config.ts) → the committed bundle, and release
          // keys the tests pin themselves.
          alias: {
            'virtual:ytsent-default-model': fileURLToPath(new URL('./tests/unit/extension/default-model.ts', import.meta.url)),
            'virtual:ytsent-release-keys': fileURLToPath(new URL('./tests/unit/extension/release-keys.ts', import.meta.url)),
          },
        },
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts', 'tests/behavioral/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      'tests/*/vitest.config.{ts,mts}',
    ],
  },
});
