/**
 * Draws the extension icons (three bars: negative, neutral, positive on a rounded tile) as PNGs
 * into extension/public/icons. Run once when the design changes: `npx tsx scripts/make-icons.ts`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function png(size: number, pixel: (x: number, y: number) => [number, number, number, number]): Buffer {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) raw.set(pixel(x, y), y * (size * 4 + 1) + 1 + x * 4);
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array())]);
}

function icon(size: number): Buffer {
  const s = (v: number) => v * size; // unit square coordinates
  const radius = s(0.2);
  const bars = [
    { x0: 0.18, x1: 0.36, top: 0.58, color: [217, 48, 37] },
    { x0: 0.41, x1: 0.59, top: 0.42, color: [154, 160, 166] },
    { x0: 0.64, x1: 0.82, top: 0.22, color: [30, 142, 62] },
  ];
  return png(size, (x, y) => {
    const cx = x + 0.5;
    const cy = y + 0.5;
    const dx = Math.max(radius - cx, 0, cx - (size - radius));
    const dy = Math.max(radius - cy, 0, cy - (size - radius));
    if (dx * dx + dy * dy > radius * radius) return [0, 0, 0, 0];
    for (const b of bars) if (cx >= s(b.x0) && cx <= s(b.x1) && cy >= s(b.top) && cy <= s(0.82)) return [...b.color, 255] as [number, number, number, number];
    return [32, 33, 36, 255];
  });
}

mkdirSync('extension/public/icons', { recursive: true });
for (const size of [16, 32, 48, 128]) writeFileSync(`extension/public/icons/icon${size}.png`, icon(size));
console.log('icons written to extension/public/icons');
