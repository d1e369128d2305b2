/**
 * Signing of outgoing webhook requests (the drift alert): HMAC-SHA256 over the exact body bytes
 * with DRIFT_WEBHOOK_SECRET, sent as `X-Ytsent-Signature-256: sha256=<hex>` (the scheme GitHub
 * uses for its webhooks, so existing receivers' verification code fits). A receiver recomputes the
 * HMAC over the raw body it received and compares in constant time; the body's `generated_at`
 * lets it refuse replays of old alerts.
 */
import { toHex } from './hash.js';

export const WEBHOOK_SIGNATURE_HEADER = 'X-Ytsent-Signature-256';

/** Webhook requests give up after this long (the cron must not hang on a dead endpoint). */
export const WEBHOOK_TIMEOUT_MS = 5000;

const encoder = new TextEncoder();

/** `sha256=<hex HMAC-SHA256 of body under secret>`. */
export async function signWebhookBody(secret: string, body: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return `sha256=${toHex(await crypto.subtle.sign('HMAC', key, encoder.encode(body)))}`;
}

/**
 * What went wrong, in words that are safe to store and show: a fixed category, never the
 * exception's text (which can carry resolver, TLS or proxy details of the operator's network).
 */
export function webhookFailure(e: unknown): 'timeout' | 'network' {
  return e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError') ? 'timeout' : 'network';
}
