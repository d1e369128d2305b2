/**
 * The OpenAPI document (worker/openapi.ts) validated in Node, where ajv can compile schemas (workerd
 * forbids code generation): the whole document against the OpenAPI 3.1 schema, every body schema
 * against the JSON Schema 2020-12 meta-schema, and each compiled schema agreeing with the zod schema
 * it came from on payloads that must pass and payloads that must fail. That the document lists
 * exactly the app's routes is checked in workerd (tests/worker/openapi.test.ts).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { PredictBatchSchema, PredictItemSchema, PredictRequestSchema, ApiKeyCreateSchema } from '../../core/predict-wire.js';
import { PromoteSchema, SamplesBatchSchema } from '../../core/wire.js';
import { jsonSchemaOf, openApiDocument, openApiPath, OPERATIONS } from '../../worker/openapi.js';

const routes = Object.keys(OPERATIONS).map((id) => {
  const [method, path] = id.split(' ') as [string, string];
  return { method, path };
});
const doc = openApiDocument(routes) as {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; security?: unknown }>>;
  components: { schemas: Record<string, Record<string, unknown>> };
};

function ajv(): Ajv2020 {
  const a = new Ajv2020({ strict: true, allErrors: true });
  // zod writes a pattern beside each format, so the formats need no checking of their own here.
  for (const f of ['uuid', 'date-time', 'email', 'uri']) a.addFormat(f, true);
  return a;
}

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(doc) as Parameters<Validator['validate']>[0]);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi).toBe('3.1.0');
  });

  it('has one operation per route, with path parameters in OpenAPI syntax', () => {
    const operations = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    expect(operations.sort()).toEqual(routes.map((r) => `${r.method} ${openApiPath(r.path)}`).sort());
    expect(openApiPath('/v1/models/:version/files/*')).toBe('/v1/models/{version}/files/{path}');
    expect(doc.paths['/v1/predict']!.post!.security).toEqual([{ apiKey: [] }]);
  });

  it('every body schema is valid JSON Schema 2020-12 and compiles', () => {
    const a = ajv();
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(a.validateSchema(schema), `${name}: ${a.errorsText(a.errors)}`).toBe(true);
      expect(() => a.compile(schema), name).not.toThrow();
    }
  });

  it('follows the zod schemas: the JSON Schema accepts and refuses what zod does', () => {
    const a = ajv();
    const cases: Array<[string, import('zod').ZodType, unknown[]]> = [
      [
        'PredictRequest',
        PredictRequestSchema,
        [
          { comment: 'great video' },
          { comment: 'x', video_id: 'dQw4w9WgXcQ', timestamp: 1_795_719_600_123, lang: 'pt-BR' },
          { items: [{ comment: 'a' }, { comment: 'b', lang: 'de' }] },
          { comment: '' },
          { comment: 'x', extra: 1 },
          { items: [] },
          { items: Array.from({ length: 65 }, () => ({ comment: 'x' })) },
          { comment: 'x', video_id: 'short' },
          { comment: 'x', lang: 'english' },
          { items: [{ comment: 'a' }], comment: 'b' },
          [],
        ],
      ],
      ['PredictItem', PredictItemSchema, [{ comment: 'ok' }, { comment: 5 }, { text: 'ok' }]],
      ['PredictBatch', PredictBatchSchema, [{ items: [{ comment: 'ok' }] }, { items: 'no' }]],
      ['ApiKeyCreate', ApiKeyCreateSchema, [{ name: 'dashboard (prod)' }, { name: '' }, { name: 'x'.repeat(65) }, { name: 'a\nb' }, {}]],
      ['Promote', PromoteSchema, [{ version: '1.2.3' }, { version: '1.2' }, { version: '1.2.3', x: 1 }]],
      [
        'SamplesBatch',
        SamplesBatchSchema,
        [
          {
            batch_id: '0b9d5d0e-5f5b-4a43-9a53-0f4b1c1f1a2e',
            client_id: 'k3J9x_r2LwQ8vT5mZ1aB',
            model_version: '2.0.0',
            consent: 'text',
            items: [{ label: 'positive', score: 0.9, ts: 1_795_719_600_000, text: 'hi' }],
          },
          { batch_id: 'nope', client_id: 'k3J9x_r2LwQ8vT5mZ1aB', model_version: '2.0.0', consent: 'text', items: [] },
        ],
      ],
    ];
    for (const [name, schema, payloads] of cases) {
      const validate = a.compile(name === 'PredictItem' || name === 'PredictBatch' ? jsonSchemaOf(schema, 'input') : doc.components.schemas[name]!);
      for (const p of payloads) {
        // Refinements zod cannot express in JSON Schema (sums, hour alignment) are not among these payloads.
        expect(validate(p), `${name} ${JSON.stringify(p).slice(0, 80)}`).toBe(schema.safeParse(p).success);
      }
    }
  });
});
