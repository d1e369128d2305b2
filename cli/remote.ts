/**
 * Scoring through a backend's POST /v1/predict (`npm run score -- --remote URL`), for a machine
 * without the model or to score with exactly what the backend serves.
 *
 * The API key comes from `--key-file FILE` or `$YTSENT_API_KEY`, never from the command line (shell
 * history, `ps`). Batches of up to 64 comments per request; a 429 is waited out as its Retry-After
 * says (the key's limit is 10 requests a second) and retried; any other error stops with the API's
 * own message.
 */
import { readFileSync } from 'node:fs';
import { API_KEY_RE, PREDICT_LIMITS, PredictBatchResponseSchema, type PredictionResult } from '../core/predict-wire.js';
import { InputError } from '../node-runtime/io.js';
import { UsageError } from './common.js';

export const API_KEY_ENV = 'YTSENT_API_KEY';
const MAX_RETRIES = 8;

/** The API key from `--key-file` or the environment; a usage error naming both when neither has one. */
export function readApiKey(keyFile: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  let key: string | undefined;
  let from: string;
  if (keyFile !== undefined) {
    try {
      key = readFileSync(keyFile, 'utf8').trim();
    } catch (err) {
      throw new UsageError(`--key-file ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    from = `--key-file ${keyFile}`;
  } else {
    key = env[API_KEY_ENV]?.trim();
    from = `$${API_KEY_ENV}`;
    if (!key) throw new UsageError(`--remote needs an API key: --key-file FILE or $${API_KEY_ENV} (create one with POST /v1/admin/keys, docs/API.md)`);
  }
  if (!API_KEY_RE.test(key)) throw new UsageError(`${from} does not hold an API key (ytsk_ followed by 43 characters)`);
  return key;
}

/** The backend's base URL, without a trailing slash; http(s) only. */
export function remoteUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--remote ${value}: not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new UsageError(`--remote ${value}: must be an http(s) URL`);
  return url.toString().replace(/\/+$/, '');
}

export interface RemoteScorer {
  predict(texts: readonly string[], lines?: readonly number[]): Promise<PredictionResult[]>;
}

const encoder = new TextEncoder();

/**
 * A scorer over POST /v1/predict. `sleep` is injectable so tests do not wait out a Retry-After.
 *
 * @example
 * const scorer = remoteScorer('http://127.0.0.1:8787', readApiKey(undefined));
 * const [p] = await scorer.predict(['great video']);
 */
export function remoteScorer(baseUrl: string, key: string, options: { fetch?: typeof fetch; sleep?: (ms: number) => Promise<void> } = {}): RemoteScorer {
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  return {
    async predict(texts, lines) {
      texts.forEach((t, i) => {
        const bytes = encoder.encode(t).byteLength;
        if (bytes > PREDICT_LIMITS.comment_bytes) {
          throw new InputError(`line ${lines?.[i] ?? i + 1}: the comment has ${bytes} UTF-8 bytes; the API scores comments of at most ${PREDICT_LIMITS.comment_bytes}`);
        }
      });
      const out: PredictionResult[] = [];
      for (let start = 0; start < texts.length; start += PREDICT_LIMITS.items) {
        const items = texts.slice(start, start + PREDICT_LIMITS.items).map((comment) => ({ comment }));
        for (let attempt = 0; ; attempt++) {
          let res: Response;
          try {
            res = await doFetch(`${baseUrl}/v1/predict`, {
              method: 'POST',
              headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
              body: JSON.stringify({ items }),
            });
          } catch (err) {
            throw new InputError(`${baseUrl}: cannot reach the backend (${(err as Error).message})`);
          }
          const text = await res.text();
          if (res.status === 429 && attempt < MAX_RETRIES) {
            const retryAfter = Number(res.headers.get('retry-after'));
            await sleep(1000 * (Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter, 60) : 1));
            continue;
          }
          if (!res.ok) {
            let message = text.slice(0, 300);
            try {
              const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
              if (body.error) message = `${body.error.code}: ${body.error.message}`;
            } catch {
              // not JSON: the raw text says what happened
            }
            throw new InputError(`${baseUrl}/v1/predict answered ${res.status} (${message})`);
          }
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = null;
          }
          const parsed = PredictBatchResponseSchema.safeParse(json);
          if (!parsed.success || parsed.data.items.length !== items.length) throw new InputError(`${baseUrl}/v1/predict answered something that is not a batch of ${items.length} predictions`);
          out.push(...parsed.data.items);
          break;
        }
      }
      return out;
    },
  };
}
