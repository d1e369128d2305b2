/**
 * Worker tests in the real workerd runtime (@cloudflare/vitest-pool-workers): the Worker from
 * wrangler.toml with miniflare's R2 and rate limiter, plus a small "webhook sink" Worker that the
 * drift webhook reaches over real outbound fetch (see helpers.ts).
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Keep in sync with ADMIN_TOKEN and ALLOWED_ORIGIN in helpers.ts.
const TEST_ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const TEST_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: here('../../worker/index.ts'),
      wrangler: { configPath: here('../../wrangler.toml') },
      miniflare: {
        bindings: {
          ADMIN_TOKEN: TEST_ADMIN_TOKEN,
          ALLOWED_ORIGINS: TEST_ORIGIN,
          METRICS_FLUSH_MS: '0',
          DRIFT_WEBHOOK_URL: 'http://webhook-sink.test/hook',
        },
        r2Buckets: { WEBHOOK_LOG: 'webhook-log' },
        // Small limit so the 429 path is reachable in a few requests; tests use fresh client ids.
        ratelimits: { CLIENT_RATE_LIMITER: { simple: { limit: 5, period: 60 } } },
        outboundService: 'webhook-sink',
        workers: [
          {
            name: 'webhook-sink',
            modules: true,
            compatibilityDate: '2026-04-01',
            r2Buckets: { WEBHOOK_LOG: 'webhook-log' },
            script: `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const body = await request.text();
    if (url.hostname !== 'webhook-sink.test') return new Response('no network in tests', { status: 502 });
    await env.WEBHOOK_LOG.put('calls/' + Date.now() + '-' + crypto.randomUUID(), JSON.stringify({
      method: request.method, path: url.pathname, contentType: request.headers.get('content-type'), body,
    }));
    return new Response(null, { status: url.pathname === '/fail' ? 500 : 204 });
  },
};`,
          },
        ],
      },
    }),
  ],
  test: {
    name: 'worker',
    root: here('.'),
    include: ['**/*.test.ts'],
    setupFiles: ['./setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
