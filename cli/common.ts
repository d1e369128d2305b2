/** Shared CLI plumbing: argument errors, exit codes, batching. */
import { InputError } from '../node-runtime/io.js';

export const BATCH_SIZE = 64;

export class UsageError extends Error {}

/** Run a CLI main; known errors print one clear line and exit non-zero, unknown ones show a stack. */
export function runCli(name: string, main: () => Promise<void>): void {
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

export function* batches<T>(items: readonly T[], size = BATCH_SIZE): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
