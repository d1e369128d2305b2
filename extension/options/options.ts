/** Options: consents with a live preview of what would be sent, updates, server, local data. */
import { send } from '../lib/send.js';
import type { Settings } from '../lib/settings.js';
import { executionName } from '../lib/execution.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

interface Status {
  model: { version: string; format: string; source: string; name: string };
  previous_model: string | null;
  rejected_models: Array<{ version: string; reason?: string }>;
  execution: string | null;
  calibration: { chosen: string; wasm_ms: number | null; webgpu_ms: number | null; reason: string } | undefined;
  settings: Settings;
  telemetry: { consent: string | null; queued: number; upload: { last_error?: string; last_success_at?: number } };
  cache: { entries: number; max: number };
  last_update: { status: string; version?: string; detail?: string; checked_at: number } | undefined;
}

interface Preview {
  consent: string | null;
  queued: { batches: unknown[]; more: { batches: number; items: number } };
  counting: unknown[];
  example: { consent: string; uploads: unknown[] } | null;
}

async function refreshPreview(): Promise<void> {
  const consent_stats = $<HTMLInputElement>('consent_stats').checked;
  const consent_text = $<HTMLInputElement>('consent_text').checked;
  const r = await send<Preview>({ target: 'background', type: 'telemetry-preview', data: { consent_stats, consent_text } });
  // The queue as it is: every request it holds, verbatim (only the first few when there are many).
  const empty = r.queued.batches.length === 0 && r.counting.length === 0;
  $('preview').textContent = empty ? 'Nothing is waiting to be sent.' : JSON.stringify({ queued: r.queued, counting: r.counting }, null, 2);
  $('preview-example').textContent = r.example ? JSON.stringify(r.example, null, 2) : 'Both choices are off: nothing is sent.';
}

async function refreshStatus(): Promise<void> {
  const s = await send<Status>({ target: 'background', type: 'get-status' });
  const rows: Array<[string, string]> = [
    ['Active model', `${s.model.name} ${s.model.version} (${s.model.source})`],
    ['Previous model', s.previous_model ?? 'none'],
    ['Runs on', executionName(s.execution)],
  ];
  if (s.calibration)
    rows.push(['Speed check', s.calibration.reason === 'measured' ? `WASM ${s.calibration.wasm_ms?.toFixed(1)} ms, WebGPU ${s.calibration.webgpu_ms?.toFixed(1)} ms per batch` : s.calibration.reason]);
  if (s.last_update) rows.push(['Last update check', `${new Date(s.last_update.checked_at).toLocaleString()}: ${s.last_update.status}${s.last_update.detail ? ` (${s.last_update.detail})` : ''}`]);
  for (const r of s.rejected_models) rows.push([`Rejected ${r.version}`, r.reason ?? '']);
  $('model-status').replaceChildren(...rows.flatMap(([k, v]) => [Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v })]));
  $('data-status').textContent = `${s.cache.entries} cached scores (at most ${s.cache.max}), ${s.telemetry.queued} telemetry items waiting to be sent.`;
  return applySettings(s.settings);
}

function applySettings(settings: Settings): void {
  $<HTMLInputElement>('consent_stats').checked = settings.consent_stats;
  $<HTMLInputElement>('consent_text').checked = settings.consent_text;
  $<HTMLInputElement>('show_badges').checked = settings.show_badges;
  $<HTMLInputElement>('backend_url').value = settings.backend_url;
  $<HTMLSelectElement>('channel').value = settings.channel;
  $<HTMLSelectElement>('execution').value = settings.execution;
}

async function save(patch: Partial<Settings>): Promise<void> {
  applySettings(await send<Settings>({ target: 'background', type: 'update-settings', data: patch }));
  await refreshPreview();
  await refreshStatus();
}

function wire(): void {
  $<HTMLInputElement>('consent_stats').addEventListener('change', (e) => {
    const on = (e.target as HTMLInputElement).checked;
    // Statistics are part of the text consent: turning them off turns both off.
    void save(on ? { consent_stats: true } : { consent_stats: false, consent_text: false });
  });
  $<HTMLInputElement>('consent_text').addEventListener('change', (e) => void save({ consent_text: (e.target as HTMLInputElement).checked }));
  $<HTMLInputElement>('show_badges').addEventListener('change', (e) => void save({ show_badges: (e.target as HTMLInputElement).checked }));
  $<HTMLSelectElement>('channel').addEventListener('change', (e) => void save({ channel: (e.target as HTMLSelectElement).value }));
  $<HTMLSelectElement>('execution').addEventListener('change', (e) => void save({ execution: (e.target as HTMLSelectElement).value as Settings['execution'] }));
  $('save-backend').addEventListener('click', async () => {
    const value = $<HTMLInputElement>('backend_url').value.trim();
    try {
      const origin = `${new URL(value).origin}/*`;
      // Host access is granted per server, by the user, at the moment they choose it.
      if (!(await chrome.permissions.contains({ origins: [origin] })) && !(await chrome.permissions.request({ origins: [origin] }))) {
        $('backend-result').textContent = 'Permission to reach that server was not granted; nothing changed.';
        return;
      }
      await save({ backend_url: value });
      $('backend-result').textContent = 'Saved.';
    } catch (err) {
      $('backend-result').textContent = `Not saved: ${(err as Error).message}`;
    }
  });
  $('check-updates').addEventListener('click', async () => {
    $('update-result').textContent = 'Checking…';
    try {
      const r = await send<{ status: string; version?: string; active: string; detail?: string }>({ target: 'background', type: 'check-updates' });
      $('update-result').textContent = `${r.status}${r.version ? ` ${r.version}` : ''}; active model ${r.active}${r.detail ? ` (${r.detail})` : ''}`;
    } catch (err) {
      $('update-result').textContent = `Update check failed: ${(err as Error).message}`;
    }
    await refreshStatus();
  });
  $('rollback').addEventListener('click', async () => {
    try {
      const r = await send<{ active: string }>({ target: 'background', type: 'rollback-model' });
      $('update-result').textContent = `Now using model ${r.active}.`;
    } catch (err) {
      $('update-result').textContent = (err as Error).message;
    }
    await refreshStatus();
  });
  $('delete-all').addEventListener('click', async () => {
    if (!confirm('Delete all cached scores, downloaded models, queued telemetry and settings from this device?')) return;
    await send({ target: 'background', type: 'delete-all-data' });
    $('delete-result').textContent = 'All local data deleted.';
    await refreshStatus();
    await refreshPreview();
  });
}

wire();
void refreshStatus().then(refreshPreview);
