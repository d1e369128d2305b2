/**
 * What the workerd tests need from Node, served to them as a service binding (REFERENCE in
 * tests/worker/vitest.config.mts): the committed bundles' files, the committed fixture texts, and
 * predictions by onnxruntime-node, computed at test time from whatever bundle is committed (the
 * models are retrained; a fixture of probabilities would go stale).
 *
 *   GET  /bundles                   ["1.0.0", "2.0.0"]: committed n-gram bundles
 *   GET  /bundles/<version>/<path>  a file of one
 *   GET  /texts                     the 1,200 texts of tests/fixtures/texts.jsonl
 *   POST /onnx {version, texts}     NgramScorer (onnxruntime-node) predictions, in order
 *   POST /features {version, texts} the features Node computes for each text ({ids, values})
 *
 * Features are compared too because the featurizer's Unicode property classes come from the
 * JavaScript engine: V8 in workerd has other Unicode data than Node 20's, and a few characters
 * (♡ U+2661 is Extended_Pictographic there, not in Node 20) become tokens in one and not the other.
 * (Chromium 150, which runs the extension, agrees with Node 20 on every code point for every class
 * the featurizer uses: checked 2026-11-30.) Where the features differ, the probabilities may; the
 * parity test tells the two apart.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ortNode from 'onnxruntime-node';
import { featurize } from '../../core/featurize.js';
import type { NgramOnnxManifest } from '../../core/manifest.js';
import { NgramScorer, type OrtModule } from '../../core/scorer.js';
import { loadBundle, MODELS_DIR } from '../../node-runtime/bundle.js';

export interface ReferenceAnswer {
  status: number;
  body: string | Uint8Array;
  contentType: string;
}

const json = (value: unknown, status = 200): ReferenceAnswer => ({ status, body: JSON.stringify(value), contentType: 'application/json' });

function ngramVersions(): string[] {
  return readdirSync(MODELS_DIR).filter((v) => {
    const path = join(MODELS_DIR, v, 'manifest.json');
    return existsSync(path) && (JSON.parse(readFileSync(path, 'utf8')) as { format?: string }).format === 'ngram-onnx';
  });
}

export async function referenceAnswer(method: string, url: string, body: string): Promise<ReferenceAnswer> {
  const path = new URL(url).pathname;
  if (method === 'GET' && path === '/bundles') return json(ngramVersions());
  const file = /^\/bundles\/([^/]+)\/(.+)$/.exec(path);
  if (method === 'GET' && file) {
    if (!ngramVersions().includes(file[1]!) || file[2]!.includes('..')) return json({ error: 'no such bundle' }, 404);
    const contentType = file[2]!.endsWith('.json') ? 'application/json' : 'application/octet-stream';
    return { status: 200, body: new Uint8Array(readFileSync(join(MODELS_DIR, file[1]!, file[2]!))), contentType };
  }
  if (method === 'GET' && path === '/texts') {
    const texts = readFileSync(fileURLToPath(new URL('../fixtures/texts.jsonl', import.meta.url)), 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { text: string }).text);
    return json(texts);
  }
  if (method === 'POST' && path === '/onnx') {
    const { version, texts } = JSON.parse(body) as { version: string; texts: string[] };
    const bundle = loadBundle(join(MODELS_DIR, version));
    const manifest = bundle.manifest as NgramOnnxManifest;
    const langid = manifest.languages ? bundle.files.get(manifest.languages.langid.file) : undefined;
    const scorer = await NgramScorer.create(ortNode as unknown as OrtModule, manifest, bundle.files.get(manifest.model.file)!, undefined, langid);
    try {
      const out = [];
      for (let i = 0; i < texts.length; i += 64) out.push(...(await scorer.predict(texts.slice(i, i + 64))));
      return json(out);
    } finally {
      await scorer.release();
    }
  }
  if (method === 'POST' && path === '/features') {
    const { version, texts } = JSON.parse(body) as { version: string; texts: string[] };
    const manifest = loadBundle(join(MODELS_DIR, version)).manifest as NgramOnnxManifest;
    return json(
      texts.map((t) => {
        const f = featurize(t, manifest.featurizer.config);
        return { ids: [...f.ids], values: [...f.values] };
      }),
    );
  }
  return json({ error: 'not found' }, 404);
}
