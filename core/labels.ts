/** The label set, in the order of the model's output columns. Changing the order is a model-format change. */
export const LABELS = ['negative', 'neutral', 'positive'] as const;
export type Label = (typeof LABELS)[number];

/** Index of a label in {@link LABELS}, or -1 when `value` is not a label. */
export function labelIndex(value: string): number {
  return (LABELS as readonly string[]).indexOf(value);
}

/** Type guard for untrusted strings (CLI input, wire payloads). */
export function isLabel(value: unknown): value is Label {
  return typeof value === 'string' && labelIndex(value) >= 0;
}
