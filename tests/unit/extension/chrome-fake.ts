/**
 * The few chrome.* APIs the extension's service-worker modules call, for unit tests in Node (no
 * browser can run here; the end-to-end tests exercise the real ones in Chromium). IndexedDB comes
 * from fake-indexeddb.
 */
import 'fake-indexeddb/auto';

type Listener = (changes: Record<string, { oldValue?: unknown; newValue?: unknown }>, area: string) => void;

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
      getManifest: () => ({ version: '0.1.0' }),
      getURL: (path: string) => `chrome-extension://test/${path}`,
    },
    permissions: {
      // Chrome match patterns without a port match every port.
      async contains({ origins }: { origins: string[] }) {
        return origins.every((o) => granted.some((g) => new URL(o.replace('/*', '/')).hostname === new URL(g.replace('/*', '/')).hostname));
      },
    },
  };
  (globalThis as unknown as { chrome: unknown }).chrome = chromeFake;
  return { storage };
}
