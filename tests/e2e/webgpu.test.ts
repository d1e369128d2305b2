/**
 * onnxruntime-web's execution providers, in the offscreen document: under the default setting a
 * transformer bundle runs on WebGPU only when an adapter exists and a calibration on this device
 * measures it faster than WASM (Chromium's --enable-unsafe-webgpu gives a SwiftShader adapter:
 * correct, and slower than WASM); a WebGPU request without an adapter falls back to WASM; the
 * WebGPU build of onnxruntime-web is loaded only when WebGPU is tried. The n-gram model runs in the
 * service worker by default (scoring-path.test.ts) and here only when a provider is asked for by name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeTransformerBundle } from '../../model-export/transformer-bundle.js';
import { launchWithExtension, type ExtensionBrowser } from './browser.js';
import { installModel } from './models.js';

let b: ExtensionBrowser | null = null;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await b?.close();
  b = null;
  for (const c of cleanups.splice(0)) await c();
});

interface Scored {
  model_version: string;
  execution: string;
  results: Array<{ probs: number[]; cached: boolean }>;
}
interface Status {
  execution: string | null;
  calibration: { chosen: string; reason: string; wasm_ms: number | null; webgpu_ms: number | null } | null;
  ort_builds: string[] | null;
}
const TEXTS = ['I love this so much', 'awful stuff, hated it', 'the video is ten minutes long'];
const score = (br: ExtensionBrowser, salt: string) => br.background<Scored>('score', { video_id: null, comments: TEXTS.map((t, i) => ({ id: String(i), text: `${t} ${salt}` })) });

describe('execution providers', () => {
  it('calibrates WebGPU against WASM for a transformer bundle and keeps the faster', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ytsent-e2e-webgpu-'));
    cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
    await writeTransformerBundle(tmp, { preset: 'tiny', version: '1.2.0', name: 'ytsent-tiny-transformer' });
    b = await launchWithExtension({ args: ['--enable-unsafe-webgpu'] });
    const registry = await installModel(b, tmp);
    cleanups.push(() => registry.close());

    const auto = await score(b, 'a');
    expect(auto.model_version).toBe('1.2.0');
    const status = await b.background<Status>('get-status');
    const calibration = status.calibration!;
    expect(calibration.reason).toBe('measured');
    expect(calibration.wasm_ms).toBeGreaterThan(0);
    expect(calibration.webgpu_ms).toBeGreaterThan(0);
    expect(calibration.chosen).toBe(calibration.webgpu_ms! < calibration.wasm_ms! ? 'webgpu' : 'wasm');
    expect(auto.execution).toBe(calibration.chosen);
    expect(status.execution).toBe(calibration.chosen);
    // Calibrating needed the WebGPU build of onnxruntime-web.
    expect(status.ort_builds).toEqual(['wasm', 'webgpu']);
    // The calibration times six batches of 64 on each provider, on SwiftShader here: about a minute
    // on this machine, more under load.
  }, 300_000);

  it('gives the n-gram model the same answers on WebGPU and on WASM when asked for them by name', async () => {
    b = await launchWithExtension({ args: ['--enable-unsafe-webgpu'] });
    await b.background('update-settings', { execution: 'webgpu' });
    const gpu = await score(b, 'b');
    expect(gpu.execution).toBe('webgpu');
    // The same texts again on WASM: clear the local cache first, or it would answer.
    await b.background('delete-all-data');
    await b.background('update-settings', { execution: 'wasm' });
    const wasm = await score(b, 'b');
    expect(wasm.execution).toBe('wasm');
    expect(wasm.results.every((r) => !r.cached)).toBe(true);
    gpu.results.forEach((r, i) => r.probs.forEach((p, k) => expect(Math.abs(p - wasm.results[i]!.probs[k]!)).toBeLessThan(1e-3)));
  });

  it('uses WASM when no WebGPU adapter exists, even when WebGPU is asked for, and never loads the WebGPU build', async () => {
    b = await launchWithExtension();
    await b.background('update-settings', { execution: 'webgpu' });
    expect((await score(b, 'c')).execution).toBe('wasm');
    // Only the WASM build of onnxruntime-web was loaded: the 27 MB WebGPU build is never fetched for WASM.
    expect((await b.background<Status>('get-status')).ort_builds).toEqual(['wasm']);
  });
});
