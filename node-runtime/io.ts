/**
 * Reading text and labeled files (JSON Lines or CSV) for the CLIs, with errors that name the file
 * and line (and for bad encoding the byte offset) so a user can fix their input.
 *
 * Files are streamed: records are parsed one line (or one CSV record) at a time and handed to the
 * caller as they come, so a 50 MB input takes the memory of one batch, not of the whole file.
 * Input must be UTF-8: a byte sequence that is not is an error naming its offset, never silently
 * replaced by U+FFFD (which would score, and write back, text the user never wrote).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, isAbsolute, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { isLabel, LABELS, type Label } from '../core/labels.js';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/**
 * A path the user typed, resolved against the folder they typed it in. `npm run <script>` runs in
 * the package root, so process.cwd() is the repository there; npm passes the caller's folder as
 * INIT_CWD.
 */
export function userPath(path: string): string {
  return isAbsolute(path) ? path : resolve(process.env.INIT_CWD || process.cwd(), path);
}

export interface TextRecord {
  text: string;
  /** 1-based line (JSONL) or record line (CSV) in the source file. */
  line: number;
  /** Any other fields of the record, passed through (e.g. an id). */
  extra: Record<string, unknown>;
}

export interface LabeledRecord extends TextRecord {
  label: Label;
}

/** Index of the first byte of `bytes` that does not belong to a valid UTF-8 sequence, or -1. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b < 0x80) {
      i++;
      continue;
    }
    // Lead byte → sequence length and the allowed range of the second byte (no overlongs, no
    // surrogates, nothing above U+10FFFF), as in the Unicode standard's table 3-7.
    let n: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) n = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      n = 3;
      if (b === 0xe0) lo = 0xa0;
      if (b === 0xed) hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      n = 4;
      if (b === 0xf0) lo = 0x90;
      if (b === 0xf4) hi = 0x8f;
    } else return i;
    if (i + n > bytes.length) return i;
    for (let k = 1; k < n; k++) {
      const c = bytes[i + k]!;
      if (k === 1 ? c < lo || c > hi : c < 0x80 || c > 0xbf) return i;
    }
    i += n;
  }
  return -1;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

interface Line {
  text: string;
  /** 1-based line number. */
  line: number;
}

/**
 * The lines of a file, decoded as strict UTF-8, without their line ending (LF or CRLF) and
 * without a leading byte order mark. Splitting on the byte 0x0A is safe before decoding: it never
 * occurs inside a multi-byte UTF-8 sequence.
 */
async function* fileLines(file: string): AsyncGenerator<Line> {
  const stream = createReadStream(file, { highWaterMark: 1 << 16 });
  let pending: Buffer[] = [];
  let offset = 0;
  let line = 0;
  const decode = (bytes: Buffer): string => {
    line++;
    const lineStart = offset;
    offset += bytes.length + 1;
    const from = line === 1 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    const to = bytes.length > from && bytes[bytes.length - 1] === 0x0d ? bytes.length - 1 : bytes.length;
    const body = bytes.subarray(from, to);
    try {
      return utf8.decode(body);
    } catch {
      const i = Math.max(0, firstInvalidUtf8(body));
      const hex = body[i]!.toString(16).padStart(2, '0');
      throw new InputError(`${file}:${line}: not UTF-8 (byte 0x${hex} at byte offset ${lineStart + from + i}); save the file as UTF-8`);
    }
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl === -1) break;
        const part = chunk.subarray(start, nl);
        const bytes = pending.length > 0 ? Buffer.concat([...pending, part]) : part;
        pending = [];
        yield { text: decode(bytes), line };
        start = nl + 1;
      }
      // The rest belongs to a line that continues in the next chunk. Copied, because the stream
      // may reuse the chunk's memory.
      if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
    }
    if (pending.length > 0) yield { text: decode(Buffer.concat(pending)), line };
  } finally {
    stream.destroy();
  }
}

function checkFile(file: string): void {
  if (!existsSync(file)) throw new InputError(`${file}: file not found`);
  if (!statSync(file).isFile()) throw new InputError(`${file}: not a regular file`);
}

function formatOf(file: string): 'jsonl' | 'csv' {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  throw new InputError(`${file}: unsupported file type "${ext || '(none)'}" (use .jsonl or .csv)`);
}

interface RawRecord {
  line: number;
  record: Record<string, unknown>;
}

async function* jsonlRecords(file: string): AsyncGenerator<RawRecord> {
  for await (const { text, line } of fileLines(file)) {
    const raw = text.trim();
    if (raw === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch (err) {
      throw new InputError(`${file}:${line}: invalid JSON (${(err as Error).message})`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new InputError(`${file}:${line}: expected a JSON object like {"text": "..."}`);
    }
    yield { line, record: value as Record<string, unknown> };
  }
}

async function* csvRecords(file: string): AsyncGenerator<RawRecord> {
  // csv-parse's streaming parser, fed with the strictly decoded lines (a quoted field may span
  // lines: the parser joins them). A decoding error ends the parse with that error.
  const parser = parseCsv({ columns: true, skip_empty_lines: true, info: true, relax_column_count: false });
  const source = Readable.from(
    (async function* () {
      for await (const { text } of fileLines(file)) yield `${text}\n`;
    })(),
  );
  source.on('error', (err) => parser.destroy(err));
  source.pipe(parser);
  try {
    for await (const r of parser as AsyncIterable<{ record: Record<string, unknown>; info: { lines: number } }>) {
      yield { line: r.info.lines, record: r.record };
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${file}: invalid CSV (${(err as Error).message})`);
  } finally {
    source.destroy();
  }
}

async function* readRecords(file: string): AsyncGenerator<RawRecord> {
  checkFile(file);
  const records = formatOf(file) === 'jsonl' ? jsonlRecords(file) : csvRecords(file);
  let any = false;
  for await (const r of records) {
    any = true;
    yield r;
  }
  if (!any) throw new InputError(`${file}: no records`);
}

function textOf(file: string, line: number, record: Record<string, unknown>): string {
  if (!('text' in record)) throw new InputError(`${file}:${line}: missing field "text"`);
  const text = record.text;
  if (typeof text !== 'string') throw new InputError(`${file}:${line}: "text" must be a string`);
  if (text.trim() === '') throw new InputError(`${file}:${line}: empty text`);
  return text;
}

/** Texts to score (`text` field or column), streamed. */
export async function* readTexts(file: string): AsyncGenerator<TextRecord> {
  for await (const { line, record } of readRecords(file)) {
    const { text: _text, ...extra } = record;
    yield { text: textOf(file, line, record), line, extra };
  }
}

/** Labeled texts (`text` and `label` fields or columns; labels negative|neutral|positive), streamed. */
export async function* readLabeled(file: string): AsyncGenerator<LabeledRecord> {
  for await (const { line, record } of readRecords(file)) {
    const text = textOf(file, line, record);
    if (!('label' in record)) throw new InputError(`${file}:${line}: missing field "label"`);
    const label = typeof record.label === 'string' ? record.label.trim().toLowerCase() : record.label;
    if (!isLabel(label)) {
      throw new InputError(`${file}:${line}: unknown label ${JSON.stringify(record.label)} (expected ${LABELS.join('|')})`);
    }
    const { text: _t, label: _l, ...extra } = record;
    yield { text, label, line, extra };
  }
}

/** Groups of up to `size` items from an async source, so a file is scored batch by batch. */
export async function* batchesOf<T>(source: AsyncIterable<T> | Iterable<T>, size: number): AsyncGenerator<T[]> {
  let batch: T[] = [];
  for await (const item of source) {
    batch.push(item);
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}
