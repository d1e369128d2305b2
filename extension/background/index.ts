/**
 * Service worker entry. Listeners are registered synchronously on every start (MV3 workers are
 * stopped when idle and restarted by events; a listener added later would miss the waking event).
 */
import { onMessage } from './router.js';
import { uploadQueue } from './telemetry.js';
import { checkForUpdate } from './updater.js';

const UPLOAD_ALARM = 'ytsent-upload';
const UPDATE_ALARM = 'ytsent-update';

chrome.runtime.onMessage.addListener(onMessage);

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
});
void ensureAlarms();
