/**
 * onnxruntime-web's WASM build, configured, and its WebAssembly started as early as possible: this
 * module is the first the offscreen document evaluates (see index.ts), so compiling the 14 MB of
 * WebAssembly overlaps with evaluating the rest of the document's code and with reading the model.
 */
import * as ortWasm from 'onnxruntime-web/wasm';

export type OrtWeb = typeof ortWasm;

/**
 * No cross-origin isolation in an extension page: threads are unavailable, and a proxy worker
 * would only add a copy per call.
 */
export function configure(ort: OrtWeb): OrtWeb {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  return ort;
}
configure(ortWasm);

export { ortWasm };

/**
 * A one-node ONNX graph (Identity, 79 bytes). Opening a session on it makes onnxruntime-web fetch,
 * compile and instantiate its WebAssembly now, while the model's files are still being read and
 * verified: on a cold start the two overlap instead of adding up.
 */
const WARM_GRAPH = 'CAgSBnl0c2VudDo9ChMKAXgSAXkaAXkiCElkZW50aXR5EgR3YXJtWg8KAXgSCgoICAESBAoCCAFiDwoBeRIKCggIARIECgIIAUIECgAQDQ==';

export const runtimeReady: Promise<void> = (async () => {
  const bytes = Uint8Array.from(atob(WARM_GRAPH), (c) => c.charCodeAt(0));
  const session = await ortWasm.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  await session.release();
})().catch(() => undefined); // a real failure shows up when the model's own session is created
