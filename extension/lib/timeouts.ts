/**
 * Requests to the backend run under a time limit (AbortSignal.timeout): the updater and the
 * telemetry uploader each run one pass at a time, so a backend that accepts a request and never
 * answers would otherwise hold every later pass, the options page's buttons included, until Chrome
 * stops the service worker. This is how a request that ran out of time is recognised and reported.
 */

/** True for the error a fetch rejects with (or a body read fails with) once its AbortSignal.timeout fires. */
export function isTimeout(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'TimeoutError';
}

/** "the backend did not finish answering within 30 s" ("… within 300 ms" below ten seconds). */
export function didNotAnswer(ms: number): string {
  return `the backend did not finish answering within ${ms >= 10_000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`}`;
}
