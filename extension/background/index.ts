/**
 * Service worker entry. Listeners are registered synchronously on every start (MV3 workers are
 * stopped when idle and restarted by events; a listener added later would miss the waking event).
 */
import { onMessage } from './router.js';
import { warmUp } from './scoring.js';
import { uploadQueue } from './telemetry.js';
import { checkForUpdate } from './updater.js';

const UPLOAD_ALARM = 'ytsent-upload';
const UPDATE_ALARM = 'ytsent-update';

chrome.runtime.onMessage.addListener(onMessage);

// A YouTube page starts loading: load the model now, while the page loads, so the first comments
// do not wait for onnxruntime-web to compile (a few hundred ms). No permission needed: the URL of a
// tab is visible to the extension where it has host permissions (youtube.com).
chrome.tabs.onUpdated.addListener((_tabId, change, tab) => {
  if (change.status === 'loading' && tab.url?.startsWith('https://www.youtube.com/')) void warmUp().catch(() => undefined);
});

// This worker may start while a YouTube page is already loading: on the first run after install,
// Chrome delivers no event to a listener it has not seen registered yet, and a page opened at once
// loads while this script is still being evaluated. A page loading now will want the model.
// Loading tabs only: a worker woken by an alarm next to a YouTube tab left open loads nothing.
void chrome.tabs
  .query({ url: 'https://www.youtube.com/*', status: 'loading' })
  .then((tabs) => (tabs.length > 0 ? warmUp() : undefined))
  .catch(() => undefined);

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === UPLOAD_ALARM) void uploadQueue();
  if (alarm.name === UPDATE_ALARM) void checkForUpdate();
});

async function ensureAlarms(): Promise<void> {
  if (!(await chrome.alarms.get(UPLOAD_ALARM))) await chrome.alarms.create(UPLOAD_ALARM, { periodInMinutes: 1 });
  if (!(await chrome.alarms.get(UPDATE_ALARM))) await chrome.alarms.create(UPDATE_ALARM, { periodInMinutes: 6 * 60, delayInMinutes: 1 });
}

chrome.runtime.onInstalled.addListener(() => {
  void ensureAlarms();
});
chrome.runtime.onStartup.addListener(() => {
  void ensureAlarms();
  // The browser restored YouTube tabs: their comments will want the model.
  void chrome.tabs
    .query({ url: 'https://www.youtube.com/*' })
    .then((tabs) => (tabs.length > 0 ? warmUp() : undefined))
    .catch(() => undefined);
});
void ensureAlarms();
