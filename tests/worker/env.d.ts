// Types for `cloudflare:test` / `cloudflare:workers` in the worker tests: the bindings of
// wrangler.toml plus the test-only ones from vitest.config.mts.
/// <reference types="@cloudflare/vitest-pool-workers/types" />
import type { Env as WorkerEnv } from '../../worker/env.js';

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {
      WEBHOOK_LOG: R2Bucket;
      /** Node-side bundles, fixture texts and onnxruntime-node predictions (tests/support/onnx-reference.ts). */
      REFERENCE: Fetcher;
    }
    interface GlobalProps {
      mainModule: typeof import('../../worker/index.js');
    }
  }
}
