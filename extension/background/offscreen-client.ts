/**
 * The offscreen document's lifecycle and messaging. Exactly one offscreen document may exist;
 * concurrent callers share one creation, and a lost race with another creator is not an error.
 */
import type { OffscreenRequest, Reply } from '../lib/messages.js';

const OFFSCREEN_PATH = 'offscreen/offscreen.html';
let creating: Promise<void> | null = null;

async function hasDocument(): Promise<boolean> {
  const url = chrome.runtime.getURL(OFFSCREEN_PATH);
  const contexts = await chrome.runtime.getContexts({ contextTypes: [chrome.runtime.ContextType.OFFSCREEN_DOCUMENT], documentUrls: [url] });
  return contexts.length > 0;
}

/**
 * Whether this worker has seen the document: asking Chrome (getContexts) on every request is an
 * IPC round trip per scoring request. Cleared when a message finds no receiver, and on close.
 */
let present = false;

export async function ensureOffscreen(): Promise<void> {
  if (present) return;
  if (await hasDocument()) {
    present = true;
    return;
  }
  creating ??= chrome.offscreen
    .createDocument({
      url: OFFSCREEN_PATH,
      reasons: [chrome.offscreen.Reason.WORKERS],
      justification: 'Runs the sentiment model (onnxruntime-web, WASM or WebGPU) on this device.',
    })
    .catch(async (err: Error) => {
      if (!(await hasDocument())) throw err; // a parallel creation won: fine
    })
    .finally(() => {
      creating = null;
    });
  await creating;
  present = true;
}

/**
 * Sends a request to the offscreen document. A just-created document may not be listening yet,
 * so "no receiving end" is retried briefly.
 */
export async function toOffscreen<T>(request: OffscreenRequest): Promise<T> {
  await ensureOffscreen();
  for (let attempt = 0; ; attempt++) {
    try {
      const reply = (await chrome.runtime.sendMessage(request)) as Reply<T> | undefined;
      if (!reply) throw new Error('Receiving end does not exist (no reply)');
      if (!reply.ok) throw new OffscreenError(reply.error);
      return reply.data;
    } catch (err) {
      if (err instanceof OffscreenError || attempt >= 50 || !/Receiving end does not exist|no reply/i.test(String(err))) throw err;
      present = false; // closed, or not listening yet: check again
      await new Promise((r) => setTimeout(r, 100));
      await ensureOffscreen();
    }
  }
}

/**
 * Like {@link toOffscreen}, but only when the document is already open: null otherwise. Status
 * pages (popup, options) must not start the model runtime just to report that it is not running.
 */
export async function toOffscreenIfOpen<T>(request: OffscreenRequest): Promise<T | null> {
  if (!present && !(await hasDocument())) return null;
  return toOffscreen<T>(request);
}

export async function closeOffscreen(): Promise<void> {
  present = false;
  if (await hasDocument()) await chrome.offscreen.closeDocument();
}

export class OffscreenError extends Error {}
