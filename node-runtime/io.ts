/**
 * Reading text and labeled files (JSON Lines or CSV) for the CLIs and the training pipeline, with
 * errors that name the file and line so a user can fix their input.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { isLabel, LABELS, type Label } from '../core/labels.js';

export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
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

function readFileChecked(file: string): string {
  if (!existsSync(file)) throw new InputError(`${file}: file not found`);
  if (!statSync(file).isFile()) throw new InputError(`${file}: not a regular file`);
  return readFileSync(file, 'utf8');
}

function formatOf(file: string): 'jsonl' | 'csv' {
  const ext = extname(file).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  if (ext === '.csv') return 'csv';
  throw new InputError(`${file}: unsupported file type "${ext || '(none)'}" (use .jsonl or .csv)`);
}

/** Raw records with their line numbers; validates nothing but syntax. */
function readRecords(file: string): Array<{ line: number; record: Record<string, unknown> }> {
  const content = readFileChecked(file).replace(/^\uFEFF/, '');
  if (formatOf(file) === 'jsonl') {
    const out: Array<{ line: number; record: Record<string, unknown> }> = [];
    const lines = content.split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!.trim();
      if (raw === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch (err) {
        throw new InputError(`${file}:${i + 1}: invalid JSON (${(err as Error).message})`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new InputError(`${file}:${i + 1}: expected a JSON object like {"text": "..."}`);
      }
      out.push({ line: i + 1, record: value as Record<string, unknown> });
    }
    return out;
  }
  let rows: Array<{ record: Record<string, unknown>; info: { lines: number } }>;
  try {
    rows = parseCsv(content, { columns: true, skip_empty_lines: true, info: true, relax_column_count: false });
  } catch (err) {
    throw new InputError(`${file}: invalid CSV (${(err as Error).message})`);
  }
  return rows.map((r) => ({ line: r.info.lines, record: r.record }));
}

function textOf(file: string, line: number, record: Record<string, unknown>): string {
  if (!('text' in record)) throw new InputError(`${file}:${line}: missing field "text"`);
  const text = record.text;
  if (typeof text !== 'string') throw new InputError(`${file}:${line}: "text" must be a string`);
  if (text.trim() === '') throw new InputError(`${file}:${line}: empty text`);
  return text;
}

/** Texts to score (`text` field or column). */
export function readTexts(file: string): TextRecord[] {
  const records = readRecords(file);
  if (records.length === 0) throw new InputError(`${file}: no records`);
  return records.map(({ line, record }) => {
    const { text: _text, ...extra } = record;
    return { text: textOf(file, line, record), line, extra };
  });
}

/** Labeled texts (`text` and `label` fields or columns; labels negative|neutral|positive). */
export function readLabeled(file: string): LabeledRecord[] {
  const records = readRecords(file);
  if (records.length === 0) throw new InputError(`${file}: no records`);
  return records.map(({ line, record }) => {
    const text = textOf(file, line, record);
    if (!('label' in record)) throw new InputError(`${file}:${line}: missing field "label"`);
    const label = typeof record.label === 'string' ? record.label.trim().toLowerCase() : record.label;
    if (!isLabel(label)) {
      throw new InputError(`${file}:${line}: unknown label ${JSON.stringify(record.label)} (expected ${LABELS.join('|')})`);
    }
    const { text: _t, label: _l, ...extra } = record;
    return { text, label, line, extra };
  });
}
