/**
 * Worker entry point: the Hono app for HTTP, the ingest consumers for the queues, the drift job for
 * the cron trigger.
 */
import { createApp } from './app.js';
import { loadConfig, type Env } from './env.js';
import { runHourly } from './drift/pipeline.js';
import { driftResponses } from './lib/response-cache.js';
import { metrics } from './lib/metrics.js';
import { consumeIngest, storeDeadLetters } from './telemetry/consumer.js';
import { DEAD_LETTER_QUEUE } from './telemetry/lanes.js';

export type { Env } from './env.js';

const app = createApp();

/** When this isolate's queue consumer last persisted its metric increments. */
let lastConsumerFlush = 0;

export default {
  fetch: app.fetch,
  async queue(batch, env, ctx) {
    try {
      if (batch.queue === DEAD_LETTER_QUEUE) await storeDeadLetters(batch, env, Date.now());
      else {
        const r = await consumeIngest(batch, env);
        console.log(
          `ingest lane ${r.lane}: ${r.messages} messages, ${r.accepted} batches (${r.items} items) stored, ${r.duplicates} copies dropped` +
            (r.conflicts ? `, ${r.conflicts} conflicts` : '') +
            (r.invalid ? `, ${r.invalid} invalid (retried)` : '') +
            (r.races ? `, ${r.races} races` : ''),
        );
      }
    } catch (e) {
      // The queue retries the whole delivery (retry_delay, then the dead-letter queue); without this
      // line the reason would show only as a failed delivery count.
      console.error(`ingest: a delivery of ${batch.messages.length} messages on ${batch.queue} failed; the queue retries them`, e);
      throw e;
    } finally {
      // An own write, at most once per METRICS_FLUSH_MS per isolate, rather than a timer: a delivery
      // that waits on a promise of another request's context can wait forever (it stalled whole
      // lanes in wrangler dev), and one that holds its own timer holds its lane that long.
      const now = Date.now();
      if (now - lastConsumerFlush >= loadConfig(env).metricsFlushMs) {
        lastConsumerFlush = now;
        ctx.waitUntil(metrics.flush(env.TELEMETRY));
      }
    }
  },
  async scheduled(controller, env, ctx) {
    // scheduledTime, not Date.now(): a delayed or re-fired trigger still processes the hour it was
    // scheduled for (and tests can fire a chosen hour).
    ctx.waitUntil(
      runHourly(env, controller.scheduledTime).then(
        (r) => {
          // New reports: answers cached by this isolate are out of date.
          driftResponses.clear();
          console.log(
            `drift job ${r.now}: ${r.versions.map((v) => `${v.model_version}=${v.report.verdict}(n=${v.report.n}, folded ${v.folded_hours.length})`).join(', ') || 'no versions'}` +
              (r.skipped.length ? `; skipped ${r.skipped.map((s) => `${s.model_version} (${s.reason})`).join(', ')}` : ''),
          );
          const m = r.monitoring;
          if (m) {
            console.log(
              `monitoring: ${m.reports.length} reports; canaries ${m.canaries.map((c) => `${c.channel}/${c.candidate}=${c.verdict}(bad ${c.bad_windows}${c.rolled_back ? ', ROLLED BACK' : ''})`).join(', ') || 'none'}` +
                `; retrain ${
                  m.retrain
                    .filter((x) => x.event)
                    .map((x) => `${x.model_version} (${x.reasons.join('+')})`)
                    .join(', ') || 'none'
                }` +
                (m.errors.length ? `; errors ${m.errors.map((e) => `${e.step}:${e.subject}`).join(', ')}` : ''),
            );
          }
        },
        (e: unknown) => {
          console.error('drift job failed', e);
          throw e;
        },
      ),
    );
  },
} satisfies ExportedHandler<Env>;
