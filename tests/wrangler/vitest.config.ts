/**
 * End-to-end tests against real `wrangler dev` processes (Node environment). Files run one after
 * another: each starts its own wrangler dev (own port and state), and two at once would only fight
 * over this machine's two cores.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'wrangler',
    root: fileURLToPath(new URL('.', import.meta.url)),
    include: ['**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
