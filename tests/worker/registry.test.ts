/**
 * Model registry and distribution in workerd with miniflare's R2: the publish protocol,
 * immutability, digest/size verification, conditional and range requests, channels, release
 * signatures (stored and served; made here with keys generated per run).
 */
import { describe, expect, it } from 'vitest';
import { encodeSignature, generateReleaseKey, pinnedKeyOf, signManifest, verifyManifestSignature } from '../../core/release-signature.js';
import { call, callJson, listKeys, makeBundle, postJson, promoter, pseudoRandomBytes, publish, publisher, putFile, putManifest, sha256Hex, testEnv } from './helpers.js';

type Err = { error: { code: string; message: string; details?: Array<{ path: string; message: string }> } };

describe('publishing', () => {
  it('keeps a version invisible until every file is verified, then publishes it atomically', async () => {
    const bundle = await makeBundle('1.0.0', { files: { 'model.onnx': pseudoRandomBytes(10_000, 3), 'extra/vocab.txt': new TextEncoder().encode('a\nb\n') } });
    const first = await callJson<{ status: string; missing: Array<{ path: string; sha256: string; bytes: number; upload_url: string }> }>('/v1/models/1.0.0', {
      method: 'PUT',
      headers: publisher({ 'Content-Type': 'application/json' }),
      body: bundle.manifestText,
    });
    expect(first.res.status).toBe(202);
    expect(first.body.status).toBe('pending');
    expect(first.body.missing.map((m) => m.path).sort()).toEqual(['extra/vocab.txt', 'model.onnx']);
    expect(first.body.missing.find((m) => m.path === 'model.onnx')).toMatchObject({ bytes: 10_000, upload_url: '/v1/models/1.0.0/files/model.onnx' });

    // Pending: nothing is served.
    expect((await call('/v1/models/1.0.0/manifest.json')).status).toBe(404);
    expect((await call('/v1/models/1.0.0/files/model.onnx')).status).toBe(404);
    expect((await callJson<{ models: unknown[] }>('/v1/models')).body.models).toEqual([]);

    expect((await putFile('1.0.0', 'model.onnx', bundle.files['model.onnx']!)).status).toBe(201);
    // Still one file missing: a second PUT stays pending and lists only that file.
    const second = await callJson<{ missing: Array<{ path: string }> }>('/v1/models/1.0.0', { method: 'PUT', headers: publisher({ 'Content-Type': 'application/json' }), body: bundle.manifestText });
    expect(second.res.status).toBe(202);
    expect(second.body.missing.map((m) => m.path)).toEqual(['extra/vocab.txt']);
    expect((await call('/v1/models/1.0.0/manifest.json')).status).toBe(404);

    const up = await callJson('/v1/models/1.0.0/files/extra/vocab.txt', { method: 'PUT', headers: publisher(), body: bundle.files['extra/vocab.txt'] });
    expect(up.res.status).toBe(201);
    expect(up.body).toMatchObject({ status: 'stored', path: 'extra/vocab.txt', bytes: 4 });

    const done = await callJson<{ status: string; already_published: boolean; manifest_sha256: string }>('/v1/models/1.0.0', {
      method: 'PUT',
      headers: publisher({ 'Content-Type': 'application/json' }),
      body: bundle.manifestText,
    });
    expect(done.res.status).toBe(201);
    expect(done.res.headers.get('Location')).toBe('/v1/models/1.0.0/manifest.json');
    expect(done.body).toMatchObject({ status: 'published', already_published: false, manifest_sha256: await sha256Hex(bundle.manifestText) });

    // Exact storage layout: content-addressed blobs, one published manifest, no pending manifest left.
    const digests = await Promise.all(Object.values(bundle.files).map((b) => sha256Hex(b)));
    expect((await listKeys(testEnv.MODELS)).sort()).toEqual([...digests.map((d) => `blobs/sha256/${d}`), 'models/1.0.0/manifest.json'].sort());

    const manifest = await call('/v1/models/1.0.0/manifest.json');
    expect(manifest.status).toBe(200);
    const served = await manifest.text();
    expect(served).toBe(bundle.manifestText);
    expect(manifest.headers.get('ETag')).toBe(`"${await sha256Hex(served)}"`);
    expect(manifest.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
  });

  it('is idempotent for the identical manifest (also reformatted) and 409 for a different one', async () => {
    const bundle = await makeBundle('1.1.0');
    expect((await publish(bundle)).status).toBe(201);
    const again = await callJson<{ status: string; already_published: boolean }>('/v1/models/1.1.0', {
      method: 'PUT',
      headers: publisher({ 'Content-Type': 'application/json' }),
      body: bundle.manifestText,
    });
    expect(again.res.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'published', already_published: true });
    // Same content, other formatting and key order: still the same manifest.
    const reordered = JSON.stringify(Object.fromEntries(Object.entries(bundle.manifest).reverse()));
    expect((await putManifest(bundle, reordered)).status).toBe(200);

    const changed = await makeBundle('1.1.0', { name: 'something-else' });
    const conflict = await callJson<Err>('/v1/models/1.1.0', { method: 'PUT', headers: publisher({ 'Content-Type': 'application/json' }), body: changed.manifestText });
    expect(conflict.res.status).toBe(409);
    expect(conflict.body.error.code).toBe('version_exists');
    // The published manifest is untouched.
    expect(await (await call('/v1/models/1.1.0/manifest.json')).text()).toBe(bundle.manifestText);
    // Files of a published version cannot be re-uploaded either.
    const reupload = await putFile('1.1.0', 'model.onnx', bundle.files['model.onnx']!);
    expect(reupload.status).toBe(409);
    expect(((await reupload.json()) as Err).error.code).toBe('version_published');
  });

  it('rejects a sha256 or size mismatch with 422 and stores nothing', async () => {
    const bundle = await makeBundle('1.2.0');
    const good = bundle.files['model.onnx']!;
    expect((await putManifest(bundle)).status).toBe(202);
    const before = await listKeys(testEnv.MODELS, 'blobs/');

    const wrong = good.slice();
    wrong[100] = wrong[100]! ^ 0xff;
    const badDigest = await putFile('1.2.0', 'model.onnx', wrong);
    expect(badDigest.status).toBe(422);
    const badDigestBody = (await badDigest.json()) as Err;
    expect(badDigestBody.error.code).toBe('sha256_mismatch');
    expect(badDigestBody.error.message).toContain(await sha256Hex(wrong));

    const short = await putFile('1.2.0', 'model.onnx', good.slice(0, good.length - 1));
    expect(short.status).toBe(422);
    expect(((await short.json()) as Err).error.code).toBe('size_mismatch');

    const long = new Uint8Array(good.length + 10);
    long.set(good);
    const tooLong = await putFile('1.2.0', 'model.onnx', long);
    expect(tooLong.status).toBe(422);
    expect(((await tooLong.json()) as Err).error.code).toBe('size_mismatch');

    // A streamed body without Content-Length is refused up front (411, like S3's PUT Object).
    const streamed = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(good.slice(0, 1000));
        c.enqueue(good.slice(1000));
        c.close();
      },
    });
    const chunked = await call('/v1/models/1.2.0/files/model.onnx', { method: 'PUT', headers: publisher(), body: streamed, duplex: 'half' } as RequestInit);
    expect(chunked.status).toBe(411);
    expect(((await chunked.json()) as Err).error.code).toBe('length_required');

    // Nothing stored: no blob, and no staging object left behind.
    expect(await listKeys(testEnv.MODELS, 'staging/')).toEqual([]);
    expect(await listKeys(testEnv.MODELS, 'blobs/')).toEqual(before);
    expect((await putManifest(bundle)).status).toBe(202);

    const ok = await putFile('1.2.0', 'model.onnx', good);
    expect(ok.status).toBe(201);
    expect(await listKeys(testEnv.MODELS, 'staging/')).toEqual([]);
    expect((await putManifest(bundle)).status).toBe(201);
  });

  it('validates manifests and upload paths, naming the failing fields', async () => {
    const bundle = await makeBundle('1.3.0');
    const blobsBefore = await listKeys(testEnv.MODELS, 'blobs/');
    const noFiles = { ...bundle.manifest, files: undefined, labels: ['a', 'b', 'c'] };
    const invalid = await callJson<Err>('/v1/models/1.3.0', { method: 'PUT', headers: publisher({ 'Content-Type': 'application/json' }), body: JSON.stringify(noFiles) });
    expect(invalid.res.status).toBe(400);
    expect(invalid.body.error.code).toBe('invalid_manifest');
    const paths = invalid.body.error.details!.map((d) => d.path);
    expect(paths).toContain('files');
    expect(paths.some((p) => p.startsWith('labels'))).toBe(true);

    const mismatch = await callJson<Err>('/v1/models/1.3.1', { method: 'PUT', headers: publisher({ 'Content-Type': 'application/json' }), body: bundle.manifestText });
    expect(mismatch.res.status).toBe(400);
    expect(mismatch.body.error).toMatchObject({ code: 'version_mismatch', details: [{ path: 'version' }] });

    expect((await putManifest(bundle, bundle.manifestText, publisher({ 'Content-Type': 'text/plain' }))).status).toBe(415);
    expect((await call('/v1/models/not-a-version', { method: 'PUT', headers: publisher({ 'Content-Type': 'application/json' }), body: '{}' })).status).toBe(400);

    const noPending = await putFile('1.3.0', 'model.onnx', bundle.files['model.onnx']!);
    expect(noPending.status).toBe(404);
    expect(((await noPending.json()) as Err).error.code).toBe('no_pending_upload');
    expect((await putManifest(bundle)).status).toBe(202);
    const unknownFile = await putFile('1.3.0', 'other.onnx', bundle.files['model.onnx']!);
    expect(unknownFile.status).toBe(404);
    expect(((await unknownFile.json()) as Err).error.code).toBe('unknown_file');
    // An encoded slash keeps ".." inside the file path, where the path schema refuses it.
    const traversal = await putFile('1.3.0', '%2e%2e%2Fescape', new Uint8Array(1));
    expect(traversal.status).toBe(400);
    expect(((await traversal.json()) as Err).error.code).toBe('invalid_path');
    // Plain dot segments are resolved by URL parsing before routing: they cannot reach a file route.
    expect((await putFile('1.3.0', '../../../escape', new Uint8Array(1))).status).toBe(404);
    expect(await listKeys(testEnv.MODELS, 'blobs/')).toEqual(blobsBefore);
  });

  it('stores a file shared by two versions once and publishes the second without uploads', async () => {
    const shared = pseudoRandomBytes(5000, 42);
    const a = await makeBundle('2.0.0', { files: { 'model.onnx': shared } });
    const b = await makeBundle('2.0.1', { files: { 'model.onnx': shared } });
    const before = await listKeys(testEnv.MODELS, 'blobs/');
    expect((await publish(a)).status).toBe(201);
    expect((await putManifest(b)).status).toBe(201);
    const added = (await listKeys(testEnv.MODELS, 'blobs/')).filter((k) => !before.includes(k));
    expect(added).toEqual([`blobs/sha256/${await sha256Hex(shared)}`]);
  });

  it('lets exactly one of two racing publishers of different manifests win', async () => {
    const x = await makeBundle('3.0.0', { name: 'publisher-x' });
    const y = await makeBundle('3.0.0', { name: 'publisher-y', files: x.files });
    // Upload the shared blob first so both PUTs publish immediately and race on the create-only put.
    await putManifest(x);
    await putFile('3.0.0', 'model.onnx', x.files['model.onnx']!);
    const [rx, ry] = await Promise.all([putManifest(x), putManifest(y)]);
    expect([rx.status, ry.status].sort()).toEqual([201, 409]);
    const winner = rx.status === 201 ? x : y;
    expect(await (await call('/v1/models/3.0.0/manifest.json')).text()).toBe(winner.manifestText);
  });

  it('lists published versions newest first with their channels', async () => {
    const { body } = await callJson<{ models: Array<{ version: string; channels: string[]; total_bytes: number; files: number }> }>('/v1/models');
    expect(body.models.map((m) => m.version)).toEqual(['3.0.0', '2.0.1', '2.0.0', '1.2.0', '1.1.0', '1.0.0']);
    expect(body.models.find((m) => m.version === '1.0.0')).toMatchObject({ files: 2, total_bytes: 10_004, channels: [] });
  });
});

describe('model file downloads', () => {
  const bytes = pseudoRandomBytes(20_000, 9);
  let etag = '';

  it('serves files with immutable caching and a strong sha256 ETag', async () => {
    const bundle = await makeBundle('4.0.0', { files: { 'model.onnx': bytes } });
    expect((await publish(bundle)).status).toBe(201);
    const res = await call('/v1/models/4.0.0/files/model.onnx');
    expect(res.status).toBe(200);
    etag = `"${await sha256Hex(bytes)}"`;
    expect(res.headers.get('ETag')).toBe(etag);
    expect(res.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    expect(res.headers.get('Accept-Ranges')).toBe('bytes');
    expect(res.headers.get('Content-Length')).toBe('20000');
    expect(await sha256Hex(new Uint8Array(await res.arrayBuffer()))).toBe(etag.slice(1, -1));
  });

  it('answers If-None-Match with 304 (strong, weak and list forms)', async () => {
    for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, '*']) {
      const res = await call('/v1/models/4.0.0/files/model.onnx', { headers: { 'If-None-Match': inm } });
      expect(res.status, inm).toBe(304);
      expect(res.headers.get('ETag')).toBe(etag);
      expect(await res.text()).toBe('');
    }
    expect((await call('/v1/models/4.0.0/files/model.onnx', { headers: { 'If-None-Match': '"other"' } })).status).toBe(200);
  });

  it('serves byte ranges with 206 and Content-Range', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=0-9', 0, 9],
      ['bytes=19990-', 19990, 19999],
      ['bytes=-25', 19975, 19999],
      ['bytes=100-99999', 100, 19999],
      ['bytes=5000-5000', 5000, 5000],
    ];
    for (const [range, first, last] of cases) {
      const res = await call('/v1/models/4.0.0/files/model.onnx', { headers: { Range: range } });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('Content-Range')).toBe(`bytes ${first}-${last}/20000`);
      expect(res.headers.get('Content-Length')).toBe(String(last - first + 1));
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes.slice(first, last + 1));
    }
  });

  it('answers unsatisfiable or malformed byte ranges with 416, ignores others', async () => {
    for (const range of ['bytes=20000-', 'bytes=30000-30010', 'bytes=9-3', 'bytes=abc', 'bytes=-0', 'bytes=']) {
      const res = await call('/v1/models/4.0.0/files/model.onnx', { headers: { Range: range } });
      expect(res.status, range).toBe(416);
      expect(res.headers.get('Content-Range')).toBe('bytes */20000');
      expect(((await res.json()) as Err).error.code).toBe('range_not_satisfiable');
    }
    // Other units and multiple ranges are ignored (the whole file, 200), as RFC 9110 allows.
    for (const range of ['items=0-3', 'bytes=0-1,5-9']) {
      const res = await call('/v1/models/4.0.0/files/model.onnx', { headers: { Range: range } });
      expect(res.status, range).toBe(200);
      expect((await res.arrayBuffer()).byteLength).toBe(20000);
    }
    // If-Range with a stale validator: the whole (new) representation.
    const stale = await call('/v1/models/4.0.0/files/model.onnx', { headers: { Range: 'bytes=0-9', 'If-Range': '"stale"' } });
    expect(stale.status).toBe(200);
    await stale.arrayBuffer();
    const fresh = await call('/v1/models/4.0.0/files/model.onnx', { headers: { Range: 'bytes=0-9', 'If-Range': etag } });
    expect(fresh.status).toBe(206);
    await fresh.arrayBuffer();
  });

  it('answers HEAD without a body, and 404 for unknown versions and files', async () => {
    const head = await call('/v1/models/4.0.0/files/model.onnx', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('Content-Length')).toBe('20000');
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const unknownVersion = await call('/v1/models/4.9.9/files/model.onnx');
    expect(unknownVersion.status).toBe(404);
    expect(((await unknownVersion.json()) as Err).error.code).toBe('unknown_version');
    const unknownFile = await call('/v1/models/4.0.0/files/missing.bin');
    expect(unknownFile.status).toBe(404);
    expect(((await unknownFile.json()) as Err).error.code).toBe('unknown_file');
  });
});

describe('channels', () => {
  it('promotes, serves the current manifest with a short cache and ETag, keeps history, rolls back', async () => {
    const v1 = await makeBundle('5.0.0');
    const v2 = await makeBundle('5.1.0');
    const v3 = await makeBundle('5.2.0');
    for (const b of [v1, v2, v3]) expect((await publish(b)).status).toBe(201);

    expect((await call('/v1/channels/beta')).status).toBe(404);
    const unknown = await postJson('/v1/channels/beta', { version: '5.9.9' }, promoter());
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as Err).error.code).toBe('unknown_version');
    const invalid = await postJson('/v1/channels/beta', { version: 'latest' }, promoter());
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as Err).error.details![0]!.path).toBe('version');
    expect((await postJson('/v1/channels/Not_Valid', { version: '5.0.0' }, promoter())).status).toBe(400);

    const p1 = await callJson<{ version: string; changed: boolean; previous: string | null }>('/v1/channels/beta', {
      method: 'POST',
      headers: promoter({ 'Content-Type': 'application/json' }),
      body: JSON.stringify({ version: '5.0.0' }),
    });
    expect(p1.res.status).toBe(200);
    expect(p1.body).toMatchObject({ version: '5.0.0', changed: true, previous: null });
    // Promoting the current version again is a no-op.
    const same = await callJson<{ changed: boolean }>('/v1/channels/beta', { method: 'POST', headers: promoter({ 'Content-Type': 'application/json' }), body: '{"version":"5.0.0"}' });
    expect(same.body.changed).toBe(false);

    const current = await call('/v1/channels/beta');
    expect(current.status).toBe(200);
    expect(current.headers.get('Cache-Control')).toBe('public, max-age=60, must-revalidate');
    expect(current.headers.get('X-Model-Version')).toBe('5.0.0');
    const etag = current.headers.get('ETag')!;
    expect(etag).toBe(`"${await sha256Hex(v1.manifestText)}"`);
    expect(await current.text()).toBe(v1.manifestText);
    expect((await call('/v1/channels/beta', { headers: { 'If-None-Match': etag } })).status).toBe(304);

    await postJson('/v1/channels/beta', { version: '5.1.0' }, promoter());
    await postJson('/v1/channels/beta', { version: '5.2.0' }, promoter());
    const afterPromote = await call('/v1/channels/beta', { headers: { 'If-None-Match': etag } });
    expect(afterPromote.status).toBe(200);
    expect(afterPromote.headers.get('X-Model-Version')).toBe('5.2.0');
    await afterPromote.arrayBuffer();

    const rb = await callJson<{ version: string; previous: string }>('/v1/channels/beta/rollback', { method: 'POST', headers: promoter() });
    expect(rb.res.status).toBe(200);
    expect(rb.body).toMatchObject({ version: '5.1.0', previous: '5.2.0' });
    const rb2 = await callJson<{ version: string }>('/v1/channels/beta/rollback', { method: 'POST', headers: promoter() });
    expect(rb2.body.version).toBe('5.0.0');
    const rb3 = await callJson<Err>('/v1/channels/beta/rollback', { method: 'POST', headers: promoter() });
    expect(rb3.res.status).toBe(409);
    expect(rb3.body.error.code).toBe('nothing_to_roll_back');
    expect((await call('/v1/channels/nope/rollback', { method: 'POST', headers: promoter() })).status).toBe(404);

    const history = await callJson<{ version: string; stack: string[]; history: Array<{ action: string; from: string | null; to: string }> }>('/v1/channels/beta/history');
    expect(history.body.version).toBe('5.0.0');
    expect(history.body.stack).toEqual(['5.0.0']);
    expect(history.body.history.map((h) => [h.action, h.from, h.to])).toEqual([
      ['promote', null, '5.0.0'],
      ['promote', '5.0.0', '5.1.0'],
      ['promote', '5.1.0', '5.2.0'],
      ['rollback', '5.2.0', '5.1.0'],
      ['rollback', '5.1.0', '5.0.0'],
    ]);
    expect((await callJson<{ channels: Array<{ channel: string; version: string }> }>('/v1/channels')).body.channels).toEqual([expect.objectContaining({ channel: 'beta', version: '5.0.0' })]);
  });

  it('loses no change when admins promote concurrently', async () => {
    const versions = ['6.0.0', '6.0.1', '6.0.2', '6.0.3', '6.0.4', '6.0.5'];
    for (const v of versions) expect((await publish(await makeBundle(v))).status).toBe(201);
    const results = await Promise.all(versions.map((v) => postJson('/v1/channels/race', { version: v }, promoter())));
    expect(results.map((r) => r.status)).toEqual(versions.map(() => 200));
    const history = await callJson<{ version: string; history: Array<{ to: string; from: string | null }> }>('/v1/channels/race/history');
    expect(history.body.history).toHaveLength(versions.length);
    expect(history.body.history.map((h) => h.to).sort()).toEqual(versions);
    // The history is a chain: each change starts from the previous one's target.
    history.body.history.forEach((h, i) => expect(h.from).toBe(i === 0 ? null : history.body.history[i - 1]!.to));
    expect(history.body.version).toBe(history.body.history.at(-1)!.to);
  });

  it('reports the default channel version on /health', async () => {
    await postJson('/v1/channels/stable', { version: '5.1.0' }, promoter());
    const { res, body } = await callJson<{ status: string; model_version: string; uptime_s: number }>('/health');
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', model_version: '5.1.0' });
    expect(body.uptime_s).toBeGreaterThanOrEqual(0);
  });
});

describe('release signatures', () => {
  const putSignature = (version: string, body: Uint8Array | string, headers: Record<string, string> = publisher()) =>
    call(`/v1/models/${version}/manifest.sig`, { method: 'PUT', headers: { 'Content-Type': 'application/json', ...headers }, body });
  const manifestBytes = async (version: string) => new Uint8Array(await (await call(`/v1/models/${version}/manifest.json`)).arrayBuffer());

  it('stores the signature made with the offline key and serves it byte for byte; it verifies against what the registry serves', async () => {
    const key = await generateReleaseKey();
    const bundle = await makeBundle('7.0.0');
    expect((await putManifest(bundle)).status).toBe(202);
    const signature = encodeSignature(await signManifest(new TextEncoder().encode(bundle.manifestText), key));
    const stored = await putSignature('7.0.0', signature);
    expect(stored.status).toBe(201);
    // Pending: nothing is served, the signature neither.
    expect((await call('/v1/models/7.0.0/manifest.sig')).status).toBe(404);
    expect((await publish(bundle)).status).toBe(201);

    const served = await call('/v1/models/7.0.0/manifest.sig');
    expect(served.status).toBe(200);
    expect(served.headers.get('Cache-Control')).toBe('public, max-age=31536000, immutable');
    const servedBytes = new Uint8Array(await served.arrayBuffer());
    expect(servedBytes).toEqual(signature);
    expect(await verifyManifestSignature(await manifestBytes('7.0.0'), servedBytes, [pinnedKeyOf(key)])).toEqual({ ok: true, key_id: key.key_id });
    expect((await call('/v1/models/7.0.0/manifest.sig', { headers: { 'If-None-Match': served.headers.get('ETag')! } })).status).toBe(304);

    // Publishing again with the same key (Ed25519 signatures are deterministic) is a no-op...
    expect(await (await putSignature('7.0.0', signature)).json()).toMatchObject({ already_stored: true });
    // ...another signature of a published version is refused: versions are immutable.
    const other = encodeSignature(await signManifest(new TextEncoder().encode(bundle.manifestText), await generateReleaseKey()));
    const conflict = await callJson<Err>('/v1/models/7.0.0/manifest.sig', { method: 'PUT', headers: publisher({ 'Content-Type': 'application/json' }), body: other });
    expect(conflict.res.status).toBe(409);
    expect(conflict.body.error.code).toBe('signature_exists');
    expect(new Uint8Array(await (await call('/v1/models/7.0.0/manifest.sig')).arrayBuffer())).toEqual(signature);
  });

  it('refuses a signature of another manifest, a malformed one, one for an unknown version, and one without the publish token', async () => {
    const key = await generateReleaseKey();
    const bundle = await makeBundle('7.1.0');
    expect((await publish(bundle)).status).toBe(201);
    const elsewhere = encodeSignature(await signManifest(new TextEncoder().encode(bundle.manifestText + ' '), key));
    const mismatch = await callJson<Err>('/v1/models/7.1.0/manifest.sig', { method: 'PUT', headers: publisher({ 'Content-Type': 'application/json' }), body: elsewhere });
    expect(mismatch.res.status).toBe(422);
    expect(mismatch.body.error.code).toBe('signature_mismatch');
    const malformed = await callJson<Err>('/v1/models/7.1.0/manifest.sig', { method: 'PUT', headers: publisher({ 'Content-Type': 'application/json' }), body: '{"format":"x"}' });
    expect(malformed.res.status).toBe(400);
    expect(malformed.body.error.code).toBe('invalid_signature');
    const good = encodeSignature(await signManifest(new TextEncoder().encode(bundle.manifestText), key));
    expect((await putSignature('7.9.9', good)).status).toBe(404);
    expect((await putSignature('7.1.0', good, {})).status).toBe(401);
    expect((await putSignature('7.1.0', good, promoter())).status).toBe(401);
    expect((await putSignature('7.1.0', new Uint8Array(5000).fill(32))).status).toBe(413);
    // None of that stored anything.
    expect(await listKeys(testEnv.MODELS, 'models/7.1.0/')).toEqual(['models/7.1.0/manifest.json']);
  });

  it('answers 404 "unsigned" for a version published without a signature, which may be signed once later', async () => {
    const bundle = await makeBundle('7.2.0');
    expect((await publish(bundle)).status).toBe(201);
    const unsigned = await callJson<Err>('/v1/models/7.2.0/manifest.sig');
    expect(unsigned.res.status).toBe(404);
    expect(unsigned.body.error.code).toBe('unsigned');
    const signature = encodeSignature(await signManifest(await manifestBytes('7.2.0'), await generateReleaseKey()));
    expect((await putSignature('7.2.0', signature)).status).toBe(201);
    expect((await call('/v1/models/7.2.0/manifest.sig')).status).toBe(200);
  });
});
