/**
 * Offscreen document entry: answers the service worker's inference requests, and nobody else's.
 * Content scripts can message every extension context too; a request from one (a web page
 * context) is refused, as is any request over the size limits (lib/limits.ts).
 */
// First: starts compiling onnxruntime-web's WebAssembly before the rest of the code is evaluated.
import './runtime.js';
import { OffscreenRequestSchema, senderKind, type OffscreenScoreResponse, type Reply, type VerifyResponse } from '../lib/messages.js';
import { Engine } from './engine.js';

const engine = new Engine();

chrome.runtime.onMessage.addListener((message: { target?: unknown }, sender, sendResponse: (r: Reply<unknown>) => void) => {
  if (message?.target !== 'offscreen') return false;
  if (senderKind(sender) !== 'extension') {
    sendResponse({ ok: false, error: "refused: the offscreen document only answers the extension's own pages" });
    return false;
  }
  const parsed = OffscreenRequestSchema.safeParse(message);
  if (!parsed.success) {
    sendResponse({ ok: false, error: `bad offscreen request: ${parsed.error.message}` });
    return false;
  }
  const request = parsed.data;
  const work = async (): Promise<unknown> => {
    switch (request.type) {
      case 'score': {
        const t0 = performance.now();
        const r = await engine.score(request.data.model_version, request.data.texts, request.data.execution);
        return { model_version: r.version, execution: r.execution, probs: Array.from(r.probs), langs: r.langs, ms: performance.now() - t0 } satisfies OffscreenScoreResponse;
      }
      case 'warm':
        await engine.warm(request.data.model_version, request.data.execution);
        return { warm: true };
      case 'verify-model':
        return (await engine.verify(request.data.version)) satisfies VerifyResponse;
      case 'status':
        return engine.status();
      case 'reset':
        await engine.reset();
        return { reset: true };
    }
  };
  work().then(
    (data) => sendResponse({ ok: true, data }),
    (err: Error) => sendResponse({ ok: false, error: err.message }),
  );
  return true; // the reply is asynchronous
});
