/**
 * Execution providers: WASM by default; WebGPU only when an adapter exists and a calibration on
 * this device measures it faster (Chromium's --enable-unsafe-webgpu gives a SwiftShader adapter:
 * correct, and slower than WASM for our model); a WebGPU request without an adapter falls back.
 * The WebGPU build of onnxruntime-web is loaded only when WebGPU is tried.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { launchWithExtension, type ExtensionBrowser } from './browser.js';

let b: ExtensionBrowser | null = null;
afterEach(async () => {
  await b?.close();
  b = null;
});

interface Scored {
  execution: string;
  results: Array<{ probs: number[] }>;
}
const TEXTS = ['I love this so much', 'awful stuff, hated it', 'the video is ten minutes long'];
const score = (br: ExtensionBrowser, salt: string) =>
  br.background<Scored>('score', { video_id: null, comments: TEXTS.map((t, i) => ({ id: String(i), text: `${t} ${salt}` })) });

describe('execution providers', () => {
  it('calibrates WebGPU against WASM, keeps the faster, and gives the same answers on both', async () => {
    b = await launchWithExtension({ args: ['--enable-unsafe-webgpu'] });
    const auto = await score(b, 'a');
    const calibration = (await b.background<{ calibration: { chosen: string; reason: string; wasm_ms: number; webgpu_ms: number } }>('get-status')).calibration;
    expect(calibration.reason).toBe('measured');
    expect(calibration.wasm_ms).toBeGreaterThan(0);
    expect(calibration.webgpu_ms).toBeGreaterThan(0);
    expect(calibration.chosen).toBe(calibration.webgpu_ms < calibration.wasm_ms ? 'webgpu' : 'wasm');
    expect(auto.execution).toBe(calibration.chosen);
    // Calibrating needed the WebGPU build of onnxruntime-web.
    expect((await b.background<{ ort_builds: string[] }>('get-status')).ort_builds).toEqual(['wasm', 'webgpu']);

    await b.background('update-settings', { execution: 'wasm' });
    const wasm = await score(b, 'b');
    await b.background('update-settings', { execution: 'webgpu' });
    const gpu = await score(b, 'b2');
    expect(wasm.execution).toBe('wasm');
    expect(gpu.execution).toBe('webgpu');
    // The same texts again on WASM: clear the local cache first, or it would answer.
    await b.background('delete-all-data');
    await b.background('update-settings', { execution: 'wasm' });
    const wasmSame = await score(b, 'b2');
    expect(wasmSame.execution).toBe('wasm');
    expect(wasmSame.results.every((r) => !(r as { cached?: boolean }).cached)).toBe(true);
    gpu.results.forEach((r, i) => r.probs.forEach((p, k) => expect(Math.abs(p - wasmSame.results[i]!.probs[k]!)).toBeLessThan(1e-3)));
  });

  it('uses WASM when no WebGPU adapter exists, even when WebGPU is asked for', async () => {
    b = await launchWithExtension();
    expect((await score(b, 'c')).execution).toBe('wasm');
    const status = await b.background<{ calibration: { reason: string }; ort_builds: string[] }>('get-status');
    expect(status.calibration.reason).toBe('no WebGPU adapter');
    // Only the WASM build of onnxruntime-web was loaded: the 27 MB WebGPU build is never fetched for WASM.
    expect(status.ort_builds).toEqual(['wasm']);
    await b.background('update-settings', { execution: 'webgpu' });
    expect((await score(b, 'd')).execution).toBe('wasm');
  });
});
