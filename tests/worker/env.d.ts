// Types for `cloudflare:test` / `cloudflare:workers` in the worker tests: Cloudflare.Env holds the
// bindings of wrangler.toml (worker/worker-configuration.d.ts, generated); the test-only ones from
// vitest.config.mts are merged into it here. (The Worker's own Env is derived from Cloudflare.Env
// too, so in this program it also sees these two; the Worker never reads them.)
/// <reference types="@cloudflare/vitest-pool-workers/types" />

declare global {
  namespace Cloudflare {
    interface Env {
      WEBHOOK_LOG: R2Bucket;
      /** Node-side bundles, fixture texts and onnxruntime-node predictions (tests/support/onnx-reference.ts). */
      REFERENCE: Fetcher;
    }
  }
}

export {};
