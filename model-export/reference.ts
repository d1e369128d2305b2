/**
 * Reference distributions for drift (label shares, confidence histogram, hashed-token histogram)
 * and golden examples, computed with the exported (quantized) model's probabilities.
 */
import { CONFIDENCE_EDGES, histogram } from '../core/drift.js';
import { LABELS } from '../core/labels.js';
import type { GoldenExample, Reference } from '../core/manifest.js';
import { TOKEN_BUCKETS, tokenBuckets } from '../core/token-buckets.js';

export function referenceDistributions(source: string, texts: readonly string[], probs: ArrayLike<number>): Reference {
  const K = LABELS.length;
  const labelCounts = new Array<number>(K).fill(0);
  const confidences: number[] = [];
  for (let i = 0; i < texts.length; i++) {
    let best = 0;
    for (let k = 1; k < K; k++) if (probs[i * K + k]! > probs[i * K + best]!) best = k;
    labelCounts[best]!++;
    confidences.push(probs[i * K + best]!);
  }
  const tokenCounts = new Array<number>(TOKEN_BUCKETS).fill(0);
  for (const t of texts) for (const b of tokenBuckets(t)) tokenCounts[b]!++;
  return {
    source,
    n: texts.length,
    label_shares: labelCounts.map((c) => c / texts.length),
    confidence_hist: { edges: [...CONFIDENCE_EDGES], counts: histogram(confidences, CONFIDENCE_EDGES) },
    token_hist: { buckets: TOKEN_BUCKETS, counts: tokenCounts },
  };
}

/**
 * Hand-picked golden texts covering every normalizer path (emoji, emoticons, negation, time stamps,
 * URLs, handles, elongation, capitals, non-English, markup, empty-ish input); the export tops them
 * up with sampled validation texts.
 */
export const GOLDEN_SEED_TEXTS = [
  'This is the best video I have seen all year, thank you!!! 😍',
  'not good at all, total waste of time',
  'At 2:35 he explains it perfectly :)',
  "I don't hate it but I don't love it either",
  'soooo boring... unsubscribed',
  'AMAZING tutorial, subscribed!',
  'who is watching in 2026?',
  'check out my channel @SomeHandle https://example.com/x',
  'me encanta esta canción ❤️',
  '<script>alert(1)</script> lol',
  'The video is 12 minutes long.',
  '😂😂😂',
  '👍🏽',
  '❤️‍🔥❤️‍🔥',
  '😡',
  "I don't own a PS5",
  "I wasn't disappointed at all",
  'I used to love your videos but this one is just lazy',
  'super annoying intro',
  '@SomeHandle this channel is so underrated',
  'Das Video ist wirklich super, danke!',
  'No me gustó nada, muy aburrido',
  'Ye video bahut accha hai bhai',
  'Лучший канал, очень нравится',
  'هذا الفيديو رائع جدا',
  ':(',
  'worst. product. ever.',
  'ok',
  '   ',
];

export function goldenExamples(texts: readonly string[], probs: ArrayLike<number>): GoldenExample[] {
  return texts.map((text, i) => ({
    text,
    probs: [0, 1, 2].map((k) => Number(probs[i * 3 + k]!.toFixed(7))),
  }));
}
