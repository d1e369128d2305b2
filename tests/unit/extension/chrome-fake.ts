/**
 * The few chrome.* APIs the extension's service-worker modules call, for unit tests in Node (no
 * browser can run here; the end-to-end tests exercise the real ones in Chromium). IndexedDB comes
 * from fake-indexeddb.
 */
import 'fake-indexeddb/auto';
import { readFile } from 'node:fs/promises';
import { join, normalize } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

type Listener = (changes: Record<string, { oldValue?: unknown; newValue?: unknown }>, area: string) => void;

/** The fake extension's id: its pages live under chrome-extension://<id>/. */
export const EXTENSION_ID = 'abcdefghijklmnopabcdefghijklmnop';

type MessageListener = (message: unknown, sender: chrome.runtime.MessageSender, sendResponse: (reply: unknown) => void) => boolean | undefined;
export const messageListeners: MessageListener[] = [];

/** Senders as Chrome describes them: an extension page, and a content script in a YouTube tab. */
export const SENDERS = {
  options: { id: EXTENSION_ID, url: `chrome-extension://${EXTENSION_ID}/options/options.html`, tab: { id: 7 } as chrome.tabs.Tab },
  popup: { id: EXTENSION_ID, url: `chrome-extension://${EXTENSION_ID}/popup/popup.html` },
  serviceWorker: { id: EXTENSION_ID, url: `chrome-extension://${EXTENSION_ID}/service-worker-loader.js` },
  contentScript: { id: EXTENSION_ID, url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', tab: { id: 3 } as chrome.tabs.Tab, frameId: 0, origin: 'https://www.youtube.com' },
  otherExtension: { id: 'ponmlkjihgfedcbaponmlkjihgfedcba', url: 'chrome-extension://ponmlkjihgfedcbaponmlkjihgfedcba/page.html' },
} satisfies Record<string, chrome.runtime.MessageSender>;

export function installChromeFake(options: { grantedOrigins?: string[] } = {}): { storage: Map<string, unknown> } {
  const storage = new Map<string, unknown>();
  const listeners: Listener[] = [];
  const granted = options.grantedOrigins ?? ['http://127.0.0.1/*'];
  const chromeFake = {
    storage: {
      local: {
        async get(key: string) {
          return storage.has(key) ? { [key]: structuredClone(storage.get(key)) } : {};
        },
        async set(items: Record<string, unknown>) {
          for (const [k, v] of Object.entries(items)) {
            const oldValue = storage.get(k);
            storage.set(k, structuredClone(v));
            listeners.forEach((l) => l({ [k]: { oldValue, newValue: v } }, 'local'));
          }
        },
        async remove(key: string) {
          storage.delete(key);
        },
      },
      onChanged: { addListener: (l: Listener) => listeners.push(l) },
    },
    runtime: {
      id: EXTENSION_ID,
      getManifest: () => ({ version: '0.1.0' }),
      getURL: (path: string) => `chrome-extension://${EXTENSION_ID}/${path}`,
      // Listeners a module registers on import (the offscreen document's), for tests to call.
      onMessage: { addListener: (l: MessageListener) => messageListeners.push(l) },
    },
    permissions: {
      // Chrome match patterns without a port match every port.
      async contains({ origins }: { origins: string[] }) {
        return origins.every((o) => granted.some((g) => new URL(o.replace('/*', '/')).hostname === new URL(g.replace('/*', '/')).hostname));
      },
    },
  };
  (globalThis as unknown as { chrome: unknown }).chrome = chromeFake;
  servePackage();
  return { storage };
}

/** Requests for the package's files answered so far (chrome-extension://<id>/<path>), for tests to count. */
export const packageFetches: string[] = [];
let serving = false;

/**
 * fetch() of the extension's own files, as the service worker reads the bundled model
 * (chrome.runtime.getURL): `models/<version>/...` is read from the repository's committed bundles,
 * where the build copies it from (vite.config.ts). Every other URL goes to the real fetch.
 */
function servePackage(): void {
  if (serving) return;
  serving = true;
  const realFetch = globalThis.fetch;
  const prefix = `chrome-extension://${EXTENSION_ID}/`;
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    if (!url.startsWith(prefix)) return realFetch(input, init);
    const path = normalize(decodeURIComponent(url.slice(prefix.length)));
    packageFetches.push(path);
    if (!path.startsWith('models/')) return new Response('not in the package', { status: 404 });
    try {
      return new Response(await readFile(join(REPO_ROOT, path)));
    } catch {
      return new Response('not in the package', { status: 404 });
    }
  };
}
