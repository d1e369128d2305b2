/**
 * Worker tests in the real workerd runtime (@cloudflare/vitest-pool-workers): the Worker from
 * wrangler.toml with miniflare's R2 and rate limiter, plus a small "webhook sink" Worker that the
 * drift webhook reaches over real outbound fetch (see helpers.ts).
 */
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { Response as MiniflareResponse, type Request as MiniflareRequest } from 'miniflare';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { referenceAnswer } from '../support/onnx-reference.js';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Keep in sync with TOKENS, WEBHOOK_SECRET and ALLOWED_ORIGIN in helpers.ts.
const TOKENS = {
  ADMIN_PUBLISH_TOKEN: 'test-publish-token-0123456789abcdef',
  ADMIN_PROMOTE_TOKEN: 'test-promote-token-0123456789abcdef',
  READ_TOKEN: 'test-read-token-0123456789abcdef0123',
};
const WEBHOOK_SECRET = 'test-webhook-secret-0123456789abcdef';
const TEST_ORIGIN = 'chrome-extension://abcdefghijklmnopabcdefghijklmnop';

export default defineConfig({
  plugins: [
    cloudflareTest({
      main: here('../../worker/index.ts'),
      wrangler: { configPath: here('../../wrangler.toml') },
      miniflare: {
        bindings: {
          ...TOKENS,
          CLIENT_ID_PEPPER: 'test-client-id-pepper-0123456789abcdef',
          DRIFT_WEBHOOK_SECRET: WEBHOOK_SECRET,
          // A leftover single-token secret (e.g. from an old .dev.vars) is ignored, never accepted.
          ADMIN_TOKEN: 'legacy-admin-token-0123456789abcdef0123',
          ALLOWED_ORIGINS: TEST_ORIGIN,
          METRICS_FLUSH_MS: '0',
          DRIFT_WEBHOOK_URL: 'http://webhook-sink.test/hook',
        },
        r2Buckets: { WEBHOOK_LOG: 'webhook-log' },
        // Small limits so the 429 paths are reachable in a few requests; tests use fresh client ids,
        // and helpers.call() a fresh CF-Connecting-IP unless a test sets one.
        ratelimits: {
          CLIENT_RATE_LIMITER: { simple: { limit: 5, period: 60 } },
          IP_RATE_LIMITER: { simple: { limit: 8, period: 60 } },
          PREDICT_RATE_LIMITER: { simple: { limit: 40, period: 10 } },
        },
        // Node-side help for the /v1/predict tests: the committed bundles, the fixture texts and
        // onnxruntime-node predictions, computed from the committed files at test time.
        serviceBindings: {
          REFERENCE: async (request: MiniflareRequest) => {
            const answer = await referenceAnswer(request.method, request.url, request.method === 'POST' ? await request.text() : '');
            return new MiniflareResponse(answer.body, { status: answer.status, headers: { 'Content-Type': answer.contentType } });
          },
        },
        outboundService: 'webhook-sink',
        workers: [
          {
            name: 'webhook-sink',
            modules: true,
            compatibilityDate: '2026-04-01',
            r2Buckets: { WEBHOOK_LOG: 'webhook-log' },
            bindings: { WEBHOOK_SECRET },
            // Verifies the signature the way docs/API.md tells receivers to: HMAC-SHA256 of the raw
            // body under the shared secret, compared in constant time.
            script: `export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const body = await request.text();
    if (url.hostname !== 'webhook-sink.test') return new Response('no network in tests', { status: 502 });
    const enc = new TextEncoder();
    const key = await crypto.subtle.importKey('raw', enc.encode(env.WEBHOOK_SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(body)));
    const expected = enc.encode('sha256=' + [...mac].map((b) => b.toString(16).padStart(2, '0')).join(''));
    const given = enc.encode(request.headers.get('x-ytsent-signature-256') ?? '');
    const signatureValid = given.byteLength === expected.byteLength && crypto.subtle.timingSafeEqual(given, expected);
    await env.WEBHOOK_LOG.put('calls/' + Date.now() + '-' + crypto.randomUUID(), JSON.stringify({
      method: request.method, path: url.pathname, contentType: request.headers.get('content-type'), body,
      signature: request.headers.get('x-ytsent-signature-256'), signatureValid, event: request.headers.get('x-ytsent-event'),
    }));
    if (!signatureValid) return new Response('bad signature', { status: 401 });
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
