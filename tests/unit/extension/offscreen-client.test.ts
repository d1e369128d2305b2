/** Exactly one offscreen document, however many requests race to create it. */
import { describe, expect, it } from 'vitest';
import { installChromeFake } from './chrome-fake.js';

installChromeFake();
let documents = 0;
let creations = 0;
const chromeWithOffscreen = globalThis.chrome as unknown as Record<string, unknown>;
Object.assign(chromeWithOffscreen, {
  offscreen: {
    Reason: { WORKERS: 'WORKERS' },
    async createDocument() {
      creations++;
      await new Promise((r) => setTimeout(r, 20)); // creation takes a while
      // Chrome refuses a second document; the client must never get here twice.
      if (documents > 0) throw new Error('Only a single offscreen document may be created.');
      documents++;
    },
    async closeDocument() {
      documents = 0;
    },
  },
});
Object.assign(chromeWithOffscreen.runtime as object, {
  ContextType: { OFFSCREEN_DOCUMENT: 'OFFSCREEN_DOCUMENT' },
  async getContexts() {
    return Array.from({ length: documents }, () => ({ contextType: 'OFFSCREEN_DOCUMENT' }));
  },
  async sendMessage(message: { type: string }) {
    // The document answers only once it exists.
    if (documents === 0) throw new Error('Could not establish connection. Receiving end does not exist.');
    return { ok: true, data: { echo: message.type } };
  },
});
const { ensureOffscreen, toOffscreen, toOffscreenIfOpen, closeOffscreen } = await import('../../../extension/background/offscreen-client.js');

describe('offscreen document lifecycle', () => {
  it('creates one document for many concurrent requests', async () => {
    const replies = await Promise.all(Array.from({ length: 10 }, () => toOffscreen<{ echo: string }>({ target: 'offscreen', type: 'status' })));
    expect(replies.every((r) => r.echo === 'status')).toBe(true);
    expect(creations).toBe(1);
    expect(documents).toBe(1);
    await ensureOffscreen();
    expect(creations).toBe(1);
  });

  it('creates it again after it was closed', async () => {
    await closeOffscreen();
    await Promise.all([ensureOffscreen(), ensureOffscreen()]);
    expect(creations).toBe(2);
    expect(documents).toBe(1);
  });

  it('asks an open document only: a status request never creates one', async () => {
    await closeOffscreen();
    const before = creations;
    expect(await toOffscreenIfOpen({ target: 'offscreen', type: 'status' })).toBeNull();
    expect(creations).toBe(before);
    expect(documents).toBe(0);
    await ensureOffscreen();
    expect(await toOffscreenIfOpen<{ echo: string }>({ target: 'offscreen', type: 'status' })).toEqual({ echo: 'status' });
  });
});
