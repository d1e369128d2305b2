/** How the popup and the options page name where the model runs (status `execution`). */
export function executionName(execution: string | null): string {
  switch (execution) {
    case null:
      return 'not loaded yet';
    // core's TypeScript forward pass in the service worker (background/worker-scorer.ts).
    case 'ts':
      return 'JavaScript (service worker)';
    case 'wasm':
      return 'WASM';
    case 'webgpu':
      return 'WebGPU';
    default:
      return execution;
  }
}
