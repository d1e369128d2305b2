/**
 * Conditional and range request handling (RFC 9110 §13, §14) for immutable content addressed by
 * sha256: the strong ETag is `"<sha256>"`.
 */

/** If-None-Match uses weak comparison: `W/"x"` matches `"x"`; `*` matches any current representation. */
export function ifNoneMatchHits(header: string | null | undefined, etag: string): boolean {
  if (!header) return false;
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  const opaque = etag.replace(/^W\//, '');
  return trimmed.split(',').some((candidate) => candidate.trim().replace(/^W\//, '') === opaque);
}

export type RangeResult = { kind: 'none' } | { kind: 'single'; offset: number; length: number } | { kind: 'unsatisfiable' };

/**
 * Parse a Range header for a representation of `size` bytes.
 *
 * - no header, another unit, or several ranges → `none` (serve the whole body; RFC 9110 lets a
 *   server ignore Range, and multipart/byteranges buys a model download nothing);
 * - a syntactically invalid bytes range, or one that starts past the end → `unsatisfiable` (416).
 */
export function parseRange(header: string | null | undefined, size: number): RangeResult {
  if (!header) return { kind: 'none' };
  const m = /^\s*([A-Za-z]+)\s*=\s*(.*)$/.exec(header);
  if (!m) return { kind: 'unsatisfiable' };
  if (m[1]!.toLowerCase() !== 'bytes') return { kind: 'none' };
  const specs = m[2]!.split(',').map((s) => s.trim());
  if (specs.length > 1) return specs.every((s) => /^(?:\d+-\d*|-\d+)$/.test(s)) ? { kind: 'none' } : { kind: 'unsatisfiable' };
  const spec = specs[0]!;
  const suffix = /^-(\d{1,15})$/.exec(spec);
  if (suffix) {
    const n = Number(suffix[1]);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    const length = Math.min(n, size);
    return { kind: 'single', offset: size - length, length };
  }
  const range = /^(\d{1,15})-(\d{0,15})$/.exec(spec);
  if (!range) return { kind: 'unsatisfiable' };
  const first = Number(range[1]);
  const last = range[2] === '' ? size - 1 : Number(range[2]);
  if (last < first || first >= size) return { kind: 'unsatisfiable' };
  return { kind: 'single', offset: first, length: Math.min(last, size - 1) - first + 1 };
}

/**
 * If-Range: the range applies only when the validator matches the current strong ETag (dates are
 * never strong validators for us, so a date If-Range means "send everything").
 */
export function ifRangeAllows(header: string | null | undefined, etag: string): boolean {
  if (!header) return true;
  const v = header.trim();
  return !v.startsWith('W/') && v === etag;
}
