/**
 * Abuse of the public write routes, in workerd: the per-network rate limit (before the body is
 * read; IPv6 by /64) on top of the per-client one, and corrections that count toward retraining
 * only where enough distinct clients on distinct networks agree on a text (by text hash), exported
 * to operators without any raw client id or address ever stored.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hourFloor } from '../../core/wire.js';
import { networkKey } from '../../worker/lib/rate-limit.js';
import { textHash, textKey } from '../../worker/telemetry/votes.js';
import { awayFromMinuteEnd, call, clientId, listKeys, makeBundle, postJson, publish, reader, samplesBatch, testEnv, deliverIngest } from './helpers.js';

type Err = { error: { code: string; message: string } };

const V = '13.0.0';
/** IP_RATE_LIMITER in vitest.config.mts. */
const NETWORK_LIMIT = 8;

beforeAll(async () => {
  expect((await publish(await makeBundle(V))).status).toBe(201);
});

describe('network keys', () => {
  it('keys IPv4 by address and IPv6 by its /64, whatever the notation', () => {
    expect(networkKey('203.0.113.7')).toBe('ip4:203.0.113.7');
    expect(networkKey(' 203.0.113.7 ')).toBe('ip4:203.0.113.7');
    const a = networkKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd');
    expect(a).toBe('ip6:2001:db8:1:2::/64');
    for (const same of ['2001:db8:1:2::1', '2001:0db8:0001:0002:0000:0000:0000:0001', '2001:DB8:1:2:ffff::', '2001:db8:1:2::1%eth0']) expect(networkKey(same), same).toBe(a);
    expect(networkKey('2001:db8:1:3::1')).not.toBe(a);
    expect(networkKey('::1')).toBe('ip6:0:0:0:0::/64');
    // IPv4-mapped IPv6 is the IPv4 client it is.
    expect(networkKey('::ffff:203.0.113.7')).toBe('ip4:203.0.113.7');
    expect(networkKey('::ffff:cb00:7107')).toBe('ip4:203.0.113.7');
    for (const bad of [undefined, null, '', 'not-an-ip', '999.1.1.1', '1.2.3.4, 5.6.7.8', '1:2:3:4:5:6:7:8:9', ':::', '2001:db8::g', '::ffff:300.1.1.1', '1::2::3']) {
      expect(networkKey(bad), String(bad)).toBe('unknown');
    }
  });
});

describe('per-network rate limit', () => {
  const batch = () => samplesBatch(V, [{ label: 'positive', score: 0.9 }]);

  it(`429 with Retry-After after ${NETWORK_LIMIT} requests from one address, whatever the client id; other networks unaffected`, async () => {
    await awayFromMinuteEnd();
    const ip = '192.0.2.10';
    const statuses: number[] = [];
    for (let i = 0; i < NETWORK_LIMIT + 2; i++) {
      // A fresh client id every time: rotating it must not reset the limit.
      const res = await postJson('/v1/samples', batch(), { 'CF-Connecting-IP': ip });
      statuses.push(res.status);
      if (res.status === 429) {
        expect(res.headers.get('Retry-After')).toBe('60');
        expect(((await res.json()) as Err).error).toEqual({ code: 'rate_limited', message: 'too many requests from this network; retry in 60 s' });
      } else await res.arrayBuffer();
    }
    expect(statuses).toEqual([...Array<number>(NETWORK_LIMIT).fill(202), 429, 429]);
    // Every telemetry route shares the network's allowance.
    for (const route of ['/v1/feedback', '/v1/aggregates']) expect((await postJson(route, '{}', { 'CF-Connecting-IP': ip })).status, route).toBe(429);
    expect((await postJson('/v1/samples', batch(), { 'CF-Connecting-IP': '192.0.2.11' })).status).toBe(202);
  });

  it('answers before reading the body: an over-limit request with a broken or huge body is still a 429', async () => {
    await awayFromMinuteEnd();
    const ip = '192.0.2.20';
    for (let i = 0; i < NETWORK_LIMIT; i++) expect((await postJson('/v1/samples', '{broken', { 'CF-Connecting-IP': ip })).status).toBe(400);
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(64 * 1024));
          if (pulled > 100) controller.close();
        },
      },
      { highWaterMark: 0 },
    );
    const res = await call('/v1/samples', { method: 'POST', headers: { 'Content-Type': 'application/json', 'CF-Connecting-IP': ip }, body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(429);
    await res.arrayBuffer();
    // 100 chunks of 64 KB were on offer; at most what the runtime prefetches was taken.
    expect(pulled).toBeLessThanOrEqual(2);
    expect((await postJson('/v1/samples', 'x'.repeat(70_000), { 'CF-Connecting-IP': ip })).status).toBe(429);
  });

  it('keys IPv6 clients by /64: rotating addresses inside it does not help', async () => {
    await awayFromMinuteEnd();
    const statuses: number[] = [];
    for (let i = 1; i <= NETWORK_LIMIT + 1; i++) {
      const res = await postJson('/v1/samples', batch(), { 'CF-Connecting-IP': `2001:db8:77:1:${i.toString(16)}::${(i * 7).toString(16)}` });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.at(-1)).toBe(429);
    expect(statuses.slice(0, NETWORK_LIMIT).every((s) => s === 202)).toBe(true);
    expect((await postJson('/v1/samples', batch(), { 'CF-Connecting-IP': '2001:db8:77:2::1' })).status).toBe(202);
  });
});

describe('corrections: counted only where distinct clients on distinct networks agree', () => {
  /** One feedback batch from `client` on `ip` correcting `text` to `corrected`. */
  async function vote(text: string, corrected: string, client: string, ip: string, predicted = 'positive'): Promise<number> {
    const res = await postJson(
      '/v1/feedback',
      { batch_id: crypto.randomUUID(), client_id: client, model_version: V, consent: 'text', items: [{ text, predicted, corrected, ts: hourFloor(Date.now()) }] },
      { 'CF-Connecting-IP': ip },
    );
    await res.arrayBuffer();
    return res.status;
  }

  async function exported(query = ''): Promise<{ headers: Headers; lines: Array<Record<string, unknown>> }> {
    const res = await call(`/v1/admin/export?kind=corrections${query}`, { headers: reader() });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toBe('application/x-ndjson; charset=utf-8');
    const text = await res.text();
    return {
      headers: res.headers,
      lines: text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    };
  }

  const clients = Array.from({ length: 6 }, () => clientId());

  beforeAll(async () => {
    // Agreed: three clients on three networks (one of them twice, from a second network).
    for (const [i, ip] of ['198.51.100.1', '198.51.100.2', '2001:db8:aa:1::1'].entries()) expect(await vote('Worst video EVER, mail me at bob@example.com', 'negative', clients[i]!, ip)).toBe(202);
    expect(await vote('worst   video ever, mail me at [email]', 'negative', clients[0]!, '198.51.100.9')).toBe(202);
    // Many clients, one network: one voice.
    for (const c of clients) expect(await vote('buy my course at https://example.com/x', 'positive', c, '198.51.100.50', 'negative')).toBe(202);
    // Conflict: two say neutral, one negative, one positive.
    for (const [i, [label, ip]] of (
      [
        ['neutral', '203.0.113.1'],
        ['neutral', '203.0.113.2'],
        ['negative', '203.0.113.3'],
        ['positive', '203.0.113.4'],
      ] as const
    ).entries()) {
      expect(await vote('it is a video', label, clients[i]!, ip, 'negative')).toBe(202);
    }
    // One client changing its mind within the hour: it counts once (which of its two labels is
    // up to the order its batches reach their lanes; a later hour's vote always wins, ingest.test.ts).
    expect(await vote('mind changer', 'negative', clients[5]!, '198.51.100.60')).toBe(202);
    expect(await vote('mind changer', 'neutral', clients[5]!, '198.51.100.60')).toBe(202);
  });

  it('exports an agreed text once enough distinct clients and networks agree, with the scrubbed text', async () => {
    const { headers, lines } = await exported();
    expect(headers.get('X-Corrections-Min-Clients')).toBe('3');
    // Either spelling of the text (they differ in case and spaces only, so they are one text).
    expect(textKey(String(lines[0]?.text))).toBe(textKey('Worst video EVER, mail me at [email]'));
    expect(lines).toEqual([
      {
        text_hash: await textHash('Worst video EVER, mail me at [email]'),
        text: lines[0]!.text,
        label: 'negative',
        // clients[0] voted twice (two networks): one voter.
        votes: { negative: 3, neutral: 0, positive: 0 },
        support: 3,
        conflicting: 0,
        model_versions: [V],
        // Every vote of this file arrives in the test's hour (first and last alike).
        first_hour: lines[0]!.first_hour,
        last_hour: lines[0]!.first_hour,
      },
    ]);
    expect(lines[0]!.first_hour).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}$/);
    expect(headers.get('X-Corrections-Texts')).toBe('4');
    expect(headers.get('X-Corrections-Agreed')).toBe('1');
    expect(headers.get('X-Corrections-Conflicted')).toBe('1');
    expect(headers.get('X-Corrections-Below-Threshold')).toBe('3');
  });

  it('takes the threshold from the query, and still never counts one network twice or a split vote', async () => {
    const worst = await textHash('Worst video EVER, mail me at [email]');
    const two = await exported('&min_clients=2');
    expect(two.lines.map((l) => l.text_hash)).toEqual([worst]);
    // At 1, one network's six clients count as one voice, and a 2-of-4 split is no majority.
    const one = await exported('&min_clients=1');
    expect(one.lines[0]).toMatchObject({ text_hash: worst, support: 3 });
    const rest = one.lines.slice(1).sort((a, b) => (String(a.text) < String(b.text) ? -1 : 1));
    expect(rest.map((l) => [l.text, l.support, l.conflicting])).toEqual([
      ['buy my course at [url]', 1, 0],
      ['mind changer', 1, 0],
    ]);
    expect(rest[0]).toMatchObject({ label: 'positive', votes: { negative: 0, neutral: 0, positive: 6 } });
    const changer = rest[1] as { label: string; votes: Record<string, number> };
    expect(['negative', 'neutral']).toContain(changer.label);
    expect(changer.votes).toEqual({ negative: changer.label === 'negative' ? 1 : 0, neutral: changer.label === 'neutral' ? 1 : 0, positive: 0 });
    const bad = await call('/v1/admin/export?kind=corrections&min_clients=0', { headers: reader() });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as Err).error).toMatchObject({ code: 'invalid_query', message: 'min_clients must be in [1, 1000]' });
  });

  it('stores no client id and no address: keys and metadata are salted HMACs', async () => {
    const keys = await listKeys(testEnv.TELEMETRY, 'votes/');
    expect(keys.length).toBe(3 + 6 + 4 + 1);
    const stored: string[] = [];
    for (const k of keys) {
      const o = (await testEnv.TELEMETRY.get(k))!;
      stored.push(k, JSON.stringify(o.customMetadata), await o.text());
      expect(k).toMatch(/^votes\/[0-9a-f]{64}\/[0-9a-f]{64}\.json$/);
    }
    const all = stored.join('\n');
    for (const c of clients) expect(all).not.toContain(c);
    for (const ip of ['198.51.100', '203.0.113', '2001:db8']) expect(all).not.toContain(ip);
    // The same client on two texts gets two unrelated voter ids.
    const voters = keys.map((k) => k.split('/')[2]);
    expect(new Set(voters).size).toBe(voters.length);
  });

  it('records nothing for a refused or repeated batch', async () => {
    const before = await listKeys(testEnv.TELEMETRY, 'votes/');
    const batch = {
      batch_id: crypto.randomUUID(),
      client_id: clientId(),
      model_version: V,
      consent: 'text',
      items: [{ text: 'again', predicted: 'positive', corrected: 'negative', ts: hourFloor(Date.now()) }],
    };
    expect((await postJson('/v1/feedback', batch)).status).toBe(202);
    // The copy is queued too; its lane drops it, also when it is delivered again later.
    expect((await postJson('/v1/feedback', batch)).status).toBe(202);
    expect((await postJson('/v1/feedback', { ...batch, batch_id: crypto.randomUUID(), model_version: '13.9.9' })).status).toBe(400);
    await deliverIngest({ times: 2 });
    expect((await listKeys(testEnv.TELEMETRY, 'votes/')).length).toBe(before.length + 1);
  });
});
