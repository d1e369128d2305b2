/**
 * Reading JSON documents back from R2 with their zod schemas, so a stored document's type is
 * earned, not asserted. A document that is not JSON or fails its schema is a
 * {@link StoredDocumentError}: the app answers 500 with a generic message and logs the key and the
 * reason, and since the read throws, nothing goes on to overwrite the document with a fresh one.
 */
import { z } from 'zod';
import { StoredDocumentError } from './errors.js';

/**
 * A number as JSON.stringify wrote it: NaN and ±Infinity become null there, so a computed float
 * (a distance, a rate) may come back as null; it is read as NaN, which every reader already
 * treats as "no value" (Number.isFinite), and written back as null again.
 */
export const jsonNumber = z.union([z.number(), z.null().transform(() => Number.NaN)]);

/**
 * The parts of R2's object and bucket used here, structurally: pure modules that import
 * {@link jsonNumber} are also compiled outside workerd's types (the unit tests' tsconfig).
 */
interface StoredBody {
  readonly key: string;
  text(): Promise<string>;
}
interface StoredBucket {
  get(key: string): Promise<StoredBody | null>;
}

/** `raw` (the stored body of `key`) parsed with `schema`, or a {@link StoredDocumentError}. */
export function parseStored<S extends z.ZodType>(schema: S, raw: unknown, key: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new StoredDocumentError(key, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  }
  return parsed.data;
}

/** The body of a fetched object parsed with `schema`; JSON syntax errors are stored-document errors too. */
export async function parseObject<S extends z.ZodType>(obj: StoredBody, schema: S): Promise<z.output<S>> {
  let raw: unknown;
  try {
    raw = JSON.parse(await obj.text());
  } catch (e) {
    throw new StoredDocumentError(obj.key, `not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseStored(schema, raw, obj.key);
}

/** The document at `key` parsed with `schema`, or null when there is none. */
export async function getStored<S extends z.ZodType>(bucket: StoredBucket, key: string, schema: S): Promise<z.output<S> | null> {
  const obj = await bucket.get(key);
  return obj ? parseObject(obj, schema) : null;
}
