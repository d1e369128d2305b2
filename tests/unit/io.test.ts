/** The CLIs' input reading (node-runtime/io.ts): strict UTF-8, caller-relative paths, batching. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { batchesOf, firstInvalidUtf8, userPath } from '../../node-runtime/io.js';

describe('firstInvalidUtf8', () => {
  const strict = new TextDecoder('utf-8', { fatal: true });
  const valid = (bytes: Uint8Array): boolean => {
    try {
      strict.decode(bytes);
      return true;
    } catch {
      return false;
    }
  };

  it('agrees with a strict TextDecoder on 20,000 seeded random byte strings', () => {
    // Bytes drawn mostly from the lead and continuation ranges, where the edge cases are.
    let seed = 12345;
    const next = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16) & 0xff;
    const pool = [0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff];
    for (let t = 0; t < 20_000; t++) {
      const bytes = Uint8Array.from({ length: 1 + (next() % 8) }, () => (next() % 3 === 0 ? next() : pool[next() % pool.length]!));
      const at = firstInvalidUtf8(bytes);
      expect(at === -1, Buffer.from(bytes).toString('hex')).toBe(valid(bytes));
      // Everything before the reported byte decodes.
      if (at > 0) expect(valid(bytes.subarray(0, at)), Buffer.from(bytes).toString('hex')).toBe(true);
    }
  });

  it.each([
    ['ascii and every encoding length', Buffer.from('a é € 😀'), -1],
    ['Latin-1 é', Buffer.from([0x63, 0x61, 0x66, 0xe9]), 3],
    ['overlong slash', Buffer.from([0x41, 0xc0, 0xaf]), 1],
    ['encoded surrogate', Buffer.from([0xed, 0xa0, 0x80]), 0],
    ['above U+10FFFF', Buffer.from([0xf4, 0x90, 0x80, 0x80]), 0],
    ['truncated at the end', Buffer.from([0x41, 0xe2, 0x82]), 1],
  ])('%s', (_name, bytes, expected) => {
    expect(firstInvalidUtf8(bytes)).toBe(expected);
  });
});

describe('userPath', () => {
  it("resolves relative paths against INIT_CWD (the folder npm was run from), else the process's folder", () => {
    const saved = process.env.INIT_CWD;
    try {
      process.env.INIT_CWD = '/somewhere/else';
      expect(userPath('data/x.csv')).toBe('/somewhere/else/data/x.csv');
      expect(userPath('/abs/x.csv')).toBe('/abs/x.csv');
      delete process.env.INIT_CWD;
      expect(userPath('x.csv')).toBe(join(process.cwd(), 'x.csv'));
    } finally {
      if (saved === undefined) delete process.env.INIT_CWD;
      else process.env.INIT_CWD = saved;
    }
  });
});

describe('batchesOf', () => {
  it('groups an async or sync source, the last batch short', async () => {
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 5; i++) yield i;
    }
    const collect = async (s: AsyncIterable<number> | Iterable<number>): Promise<number[][]> => {
      const out: number[][] = [];
      for await (const b of batchesOf(s, 2)) out.push(b);
      return out;
    };
    expect(await collect(source())).toEqual([[0, 1], [2, 3], [4]]);
    expect(await collect([1, 2])).toEqual([[1, 2]]);
    expect(await collect([])).toEqual([]);
  });
});
