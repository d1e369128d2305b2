/** Shared CLI plumbing: argument errors, exit codes, batching, output with backpressure. */
import { once } from 'node:events';
import { InputError } from '../node-runtime/io.js';

export { userPath } from '../node-runtime/io.js';

export const BATCH_SIZE = 64;

export class UsageError extends Error {}

/** Run a CLI main; known errors print one clear line and exit non-zero, unknown ones show a stack. */
export function runCli(name: string, main: () => Promise<void>): void {
  // A reader that stops early (`| head`) closes the pipe: that ends the output, it is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  main().catch((err: unknown) => {
    if (err instanceof UsageError || err instanceof InputError) {
      console.error(`${name}: ${err.message}`);
      process.exitCode = err instanceof UsageError ? 2 : 1;
    } else {
      console.error(`${name}: unexpected error`, err);
      process.exitCode = 3;
    }
  });
}

/**
 * Writes to stdout and waits while its buffer is full, so a large input scored into a slow pipe
 * does not pile up in memory.
 */
export async function writeOut(text: string): Promise<void> {
  if (!process.stdout.write(text)) await once(process.stdout, 'drain');
}

/**
 * Joins a record's own fields with the fields a CLI adds. The record's fields are never
 * overwritten: an added field whose name the record already uses (a CSV with its own `label`
 * column, say) is written as `predicted_<name>`, and `note` is told once per such name so the CLI
 * can say so.
 */
export function outputRecord(note: (message: string) => void): (own: Record<string, unknown>, added: Record<string, unknown>) => Record<string, unknown> {
  const told = new Set<string>();
  return (own, added) => {
    const out: Record<string, unknown> = { ...own };
    for (const [key, value] of Object.entries(added)) {
      if (key in own) {
        const renamed = `predicted_${key}`;
        if (!told.has(key)) {
          told.add(key);
          note(`the input has its own "${key}" field: kept as it is; the prediction's "${key}" is written as "${renamed}"`);
        }
        out[renamed] = value;
      } else out[key] = value;
    }
    return out;
  };
}
