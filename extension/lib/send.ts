/**
 * Request/reply messaging helper. Kept free of zod so the content script stays small; receivers
 * validate with the schemas in messages.ts.
 */

/** Every reply is `{ok: true, data}` or `{ok: false, error}`: failures cross contexts as values. */
export type Reply<T> = { ok: true; data: T } | { ok: false; error: string };

export async function send<T>(message: unknown): Promise<T> {
  const reply = (await chrome.runtime.sendMessage(message)) as Reply<T> | undefined;
  if (!reply) throw new Error('no reply (is the service worker running?)');
  if (!reply.ok) throw new Error(reply.error);
  return reply.data;
}
