/**
 * Runs in every worker test file. The Worker persists metric increments (and streams exports)
 * from `waitUntil`; a test that ended while such work is in flight would tear it down mid-request.
 * Waiting for every request's ExecutionContext and for the (same-isolate) metrics buffer keeps each
 * test's side effects inside it.
 */
import { afterEach } from 'vitest';
import { metrics } from '../../worker/lib/metrics.js';
import { held, pendingContexts } from './helpers.js';

afterEach(async () => {
  await Promise.all(pendingContexts.splice(0));
  // Messages a test sent and did not deliver do not leak into the next test.
  held.length = 0;
  await metrics.settled();
});
