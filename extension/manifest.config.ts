/** The extension manifest (MV3), with only the permissions the extension uses. */
import { defineManifest } from '@crxjs/vite-plugin';
import pkg from '../package.json' with { type: 'json' };

/** The backend the build talks to by default; other backends are requested at runtime (options page). */
const BACKEND = process.env.VITE_YTSENT_BACKEND ?? 'http://127.0.0.1:8787';
// Match patterns without a port match every port: the local default covers any wrangler dev port.
const backendOrigin = `${new URL(BACKEND).protocol}//${new URL(BACKEND).hostname}/*`;

export default defineManifest({
  manifest_version: 3,
  name: 'ytsent: YouTube comment sentiment',
  short_name: 'ytsent',
  description: 'Scores every YouTube comment as negative, neutral or positive on your device. Nothing leaves your browser unless you opt in.',
  version: pkg.version,
  icons: { 16: 'icons/icon16.png', 32: 'icons/icon32.png', 48: 'icons/icon48.png', 128: 'icons/icon128.png' },
  action: { default_popup: 'popup/popup.html', default_title: 'Comment sentiment', default_icon: { 16: 'icons/icon16.png', 32: 'icons/icon32.png' } },
  options_page: 'options/options.html',
  background: { service_worker: 'background/index.ts', type: 'module' },
  content_scripts: [
    {
      matches: ['https://www.youtube.com/*'],
      js: ['content/index.ts'],
      run_at: 'document_idle',
    },
  ],
  // offscreen: the model runs in an offscreen document (no wasm in service workers);
  // storage: settings; alarms: telemetry uploads and model update checks.
  permissions: ['offscreen', 'storage', 'alarms'],
  host_permissions: ['https://www.youtube.com/*', backendOrigin],
  // A backend other than the default is asked for when the user sets it in the options.
  optional_host_permissions: ['https://*/*', 'http://localhost/*'],
  content_security_policy: { extension_pages: "script-src 'self' 'wasm-unsafe-eval'; object-src 'self'" },
  minimum_chrome_version: '120',
});
