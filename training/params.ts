/**
 * Pipeline parameters: YAML (with `extends` for variants such as the smoke configuration),
 * validated so a typo fails before any stage runs.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { FeaturizerConfigSchema, SemverSchema } from '../core/manifest.js';

const Range = z.tuple([z.number(), z.number()]).refine(([a, b]) => a <= b, 'range must be [low, high]');
const Dimension = z.union([
  z.object({ log_uniform: Range.refine(([a]) => a > 0, 'log_uniform needs positive bounds') }),
  z.object({ uniform: Range }),
  z.object({ int: Range }),
]);
export type Dimension = z.infer<typeof Dimension>;

const HyperParams = z.object({
  learning_rate: z.number().positive(),
  epochs: z.number().int().positive(),
  l2: z.number().nonnegative(),
  youtube_weight: z.number().nonnegative(),
  class_balance: z.number().min(0).max(1),
});
export type HyperParams = z.infer<typeof HyperParams>;

export const ParamsSchema = z.object({
  seed: z.number().int(),
  data: z.object({
    dir: z.string(),
    limit_per_file: z.number().int().positive().nullable(),
    youtube_val_fraction: z.number().gt(0).lt(1),
  }),
  featurizer: FeaturizerConfigSchema,
  search: z
    .object({
    trials: z.number().int().positive(),
    /** The output model averages the weights of this many best trials ("model soup"). */
    soup_top_k: z.number().int().positive(),
    objective: z.enum(['tweeteval_val.macro_recall', 'tweeteval_val.macro_f1']),
    defaults: HyperParams,
    space: z.object({
      learning_rate: Dimension,
      epochs: Dimension,
      l2: Dimension,
      youtube_weight: Dimension,
      class_balance: Dimension,
    }),
  })
    .refine((s) => s.soup_top_k <= s.trials, { message: 'soup_top_k must not exceed trials', path: ['soup_top_k'] }),
  gates: z.object({
    tweeteval_val_macro_recall: z.number(),
    youtube_val_macro_f1: z.number(),
    parity_max_abs_diff: z.number().positive(),
    parity_argmax_agreement: z.number().max(1),
    model_max_bytes: z.number().int().positive(),
  }),
  export: z.object({
    parity_texts: z.number().int().positive(),
    golden_examples: z.number().int().positive(),
  }),
  model: z.object({ name: z.string(), version: SemverSchema, description: z.string().optional() }),
});
export type Params = z.infer<typeof ParamsSchema>;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (!isObject(base) || !isObject(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

function loadRaw(file: string, seen: Set<string>): Record<string, unknown> {
  const path = resolve(file);
  if (seen.has(path)) throw new Error(`${path}: circular "extends"`);
  seen.add(path);
  const doc = parseYaml(readFileSync(path, 'utf8')) as unknown;
  if (!isObject(doc)) throw new Error(`${path}: expected a YAML mapping`);
  const { extends: parent, ...rest } = doc;
  if (parent === undefined) return rest;
  if (typeof parent !== 'string') throw new Error(`${path}: "extends" must be a file name`);
  return deepMerge(loadRaw(resolve(dirname(path), parent), seen), rest) as Record<string, unknown>;
}

/** Load and validate a params file. */
export function loadParams(file: string): Params {
  const raw = loadRaw(file, new Set());
  const parsed = ParamsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(
      `${file}: invalid params: ` + parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  return parsed.data;
}
