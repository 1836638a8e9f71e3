import { expect, it } from 'vitest';
import { createApiKey, signUp } from './platform/testing/actors.js';
import { describeEachDb } from './platform/testing/harness.js';

/**
 * SPEC §6 "No lost updates", one scenario table for every versioned resource: GET answers an
 * ETag; a write with the current one passes and answers the next; a write with a stale one is a
 * 412 with the current version in details and changes nothing; of two writers holding the same
 * ETag exactly one wins. Regression: a stale `PUT /flows/{id}` answered 200 and overwrote the
 * newer version (issue #25).
 */
interface Resource {
  name: string;
  /** Creates one and answers its URL. */
  create: () => Promise<string>;
  /** A change by method (PUT or PATCH); `n` makes each body different. */
  writes: { method: 'PUT' | 'PATCH'; body: (n: number) => unknown }[];
  /** What a write changes, read back from GET (to prove a refused write changed nothing). */
  seen: (data: Record<string, unknown>) => unknown;
  /** The version as the JSON body carries it. */
  versionOf: (data: Record<string, unknown>) => string;
}

describeEachDb(
  'no lost updates: ETag and If-Match',
  (h) => {
    let key = '';
    const req = (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
      h().request({ method, url, apiKey: key, body, ...(headers ? { headers } : {}) });
    const flowBody = (n: number) => ({
      name: `Flow ${n}`,
      nodes: [{ id: 'start', type: 'trigger.manual', name: 'Start', position: { x: n, y: 0 }, params: {} }],
      edges: [],
    });
    let secretId = '';
    let models = 0;
    let actions = 0;

    const resources: Resource[] = [
      {
        name: 'flow',
        create: async () => `/api/v1/flows/${(await req('POST', '/api/v1/flows', flowBody(0))).json().data.id}`,
        writes: [
          { method: 'PUT', body: flowBody },
          { method: 'PATCH', body: (n) => ({ name: `Flow ${n}` }) },
        ],
        seen: (d) => [d.name, d.nodes],
        versionOf: (d) => String(d.version),
      },
      {
        name: 'model',
        create: async () => {
          const name = `etag_things_${++models}`;
          const r = await req('POST', '/api/v1/models', { name, fields: [{ name: 'title', type: 'string' }] });
          expect(r.statusCode, r.body).toBe(201);
          return `/api/v1/models/${name}`;
        },
        writes: [{ method: 'PATCH', body: (n) => ({ description: `described ${n}` }) }],
        seen: (d) => [d.description, d.fields],
        versionOf: (d) => String(d.version),
      },
      {
        name: 'agent',
        create: async () => {
          secretId ||= (await req('POST', '/api/v1/secrets', { name: 'OpenAI', provider: 'openai', value: 'sk-etag-test-0000' })).json().data.id;
          const r = await req('POST', '/api/v1/agents', { name: 'Helper', provider: 'openai', model: 'gpt-4o-mini', secretId });
          expect(r.statusCode, r.body).toBe(201);
          return `/api/v1/agents/${r.json().data.id}`;
        },
        writes: [{ method: 'PATCH', body: (n) => ({ system: `Be helpful ${n}` }) }],
        seen: (d) => d.system,
        versionOf: (d) => String(d.version),
      },
      {
        name: 'action',
        create: async () => {
          const r = await req('POST', '/api/v1/actions', {
            name: `Add a thing ${++actions}`,
            params: [{ name: 'title', type: 'string', required: true }],
            steps: [{ id: 'add', op: 'create', model: 'etag_records', values: { title: '{{params.title}}' } }],
          });
          expect(r.statusCode, r.body).toBe(201);
          return `/api/v1/actions/${r.json().data.id}`;
        },
        writes: [{ method: 'PATCH', body: (n) => ({ description: `adds ${n}` }) }],
        seen: (d) => d.description,
        versionOf: (d) => String(d.version),
      },
      {
        name: 'record',
        create: async () => {
          const r = await req('POST', '/api/v1/data/etag_records', { title: 'first', count: 0 });
          expect(r.statusCode, r.body).toBe(201);
          return `/api/v1/data/etag_records/${r.json().data.id}`;
        },
        writes: [
          { method: 'PUT', body: (n) => ({ title: `put ${n}`, count: n }) },
          { method: 'PATCH', body: (n) => ({ count: n }) },
        ],
        seen: (d) => [d.title, d.count],
        versionOf: (d) => String(d.updatedAt),
      },
    ];

    it('sets up an organization and a model for the records', async () => {
      const owner = await signUp(h());
      key = (await createApiKey(h(), owner.token, 'admin')).key;
      const m = await req('POST', '/api/v1/models', {
        name: 'etag_records',
        fields: [
          { name: 'title', type: 'string' },
          { name: 'count', type: 'integer' },
        ],
      });
      expect(m.statusCode, m.body).toBe(201);
    });

    for (const res of resources) {
      it(`${res.name}: GET answers an ETag (the version in the body); a write with it passes and answers the next one`, async () => {
        const url = await res.create();
        const got = await req('GET', url);
        expect(got.statusCode, got.body).toBe(200);
        const etag = got.headers.etag as string;
        expect(etag).toBe(`"${res.versionOf(got.json().data)}"`);
        let current = etag;
        for (const [i, w] of res.writes.entries()) {
          const r = await req(w.method, url, w.body(i + 1), { 'if-match': current });
          expect(r.statusCode, r.body).toBe(200);
          const next = r.headers.etag as string;
          expect(next).toBe(`"${res.versionOf(r.json().data)}"`);
          expect(next).not.toBe(current);
          current = next;
        }
        expect((await req('GET', url)).headers.etag).toBe(current);
      });

      it(`${res.name}: a stale If-Match on ${res.writes.map((w) => w.method).join(', ')} and DELETE is a 412 with the current version, and changes nothing`, async () => {
        const target = await res.create();
        const first = await req('GET', target);
        const stale = first.headers.etag as string;
        const w0 = res.writes[0]!;
        const moved = await req(w0.method, target, w0.body(10), { 'if-match': stale });
        expect(moved.statusCode, moved.body).toBe(200);
        const current = moved.headers.etag as string;
        const before = res.seen((await req('GET', target)).json().data);
        for (const w of res.writes) {
          const r = await req(w.method, target, w.body(20), { 'if-match': stale });
          expect(r.statusCode, r.body).toBe(412);
          const err = r.json().error;
          expect(err.code).toBe('PRECONDITION_FAILED');
          expect(err.details).toEqual({ currentVersion: res.name === 'record' ? JSON.parse(current) : Number(JSON.parse(current)), etag: current });
        }
        const del = await req('DELETE', target, undefined, { 'if-match': stale });
        expect(del.statusCode, del.body).toBe(412);
        const after = await req('GET', target);
        expect(after.statusCode).toBe(200);
        expect(res.seen(after.json().data)).toEqual(before);
        expect(after.headers.etag).toBe(current);
      });

      it(`${res.name}: of two writers holding the same ETag exactly one wins; the other gets 412`, async () => {
        const target = await res.create();
        const etag = (await req('GET', target)).headers.etag as string;
        const w = res.writes[0]!;
        const [a, b] = await Promise.all([req(w.method, target, w.body(31), { 'if-match': etag }), req(w.method, target, w.body(32), { 'if-match': etag })]);
        expect([a.statusCode, b.statusCode].sort()).toEqual([200, 412]);
        const winner = a.statusCode === 200 ? a : b;
        const loser = a.statusCode === 200 ? b : a;
        expect(loser.json().error.details.etag).toBe(winner.headers.etag);
        const now = await req('GET', target);
        expect(now.headers.etag).toBe(winner.headers.etag);
        expect(res.seen(now.json().data)).toEqual(res.seen(winner.json().data));
      });
    }

    it('no If-Match, or *, writes unconditionally (clients without it keep working); W/ and lists match; garbage is a 400', async () => {
      const url = await resources[0]!.create();
      const v = Number(JSON.parse((await req('GET', url)).headers.etag as string));
      expect((await req('PATCH', url, { name: 'plain' })).statusCode).toBe(200);
      expect((await req('PATCH', url, { name: 'star' }, { 'if-match': '*' })).statusCode).toBe(200);
      expect((await req('PATCH', url, { name: 'weak' }, { 'if-match': `W/"${v + 2}"` })).statusCode).toBe(200);
      expect((await req('PATCH', url, { name: 'list' }, { 'if-match': `"1", "${v + 3}"` })).statusCode).toBe(200);
      expect((await req('PATCH', url, { name: 'bare' }, { 'if-match': String(v + 4) })).statusCode).toBe(200);
      const bad = await req('PATCH', url, { name: 'bad' }, { 'if-match': '"unterminated' });
      expect(bad.statusCode).toBe(400);
      expect(bad.json().error.code).toBe('VALIDATION_FAILED');
      const stale = await req('PATCH', url, { name: 'stale' }, { 'if-match': '"not-a-version"' });
      expect(stale.statusCode).toBe(412);
      const now = (await req('GET', url)).json().data;
      expect(now).toMatchObject({ name: 'bare', version: v + 5 });
    });

    it('a deleted resource answers 404 to a conditional write, not 412', async () => {
      const url = await resources[4]!.create();
      const etag = (await req('GET', url)).headers.etag as string;
      expect((await req('DELETE', url, undefined, { 'if-match': etag })).statusCode).toBe(204);
      const r = await req('PATCH', url, { count: 1 }, { 'if-match': etag });
      expect(r.statusCode).toBe(404);
      expect(r.json().error.code).toBe('RECORD_NOT_FOUND');
    });

    it('a record version tells apart writes within one millisecond (updatedAt to the microsecond), bulk updates included', async () => {
      const url = await resources[4]!.create();
      const created = (await req('GET', url)).json().data;
      expect(created.updatedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
      const bulk = await req('POST', '/api/v1/data/etag_records/bulk', { op: 'update', items: [{ id: created.id, count: 99 }] });
      expect(bulk.statusCode, bulk.body).toBe(200);
      const r = await req('PATCH', url, { count: 1 }, { 'if-match': `"${created.updatedAt}"` });
      expect(r.statusCode).toBe(412);
      expect((await req('GET', url)).json().data.count).toBe(99);
    });

    it('CORS exposes ETag to the listed origins, so their clients can send it back', async () => {
      const r = await req('GET', '/api/v1/flows', undefined, { origin: 'https://admin.example.com' });
      expect(r.headers['access-control-allow-origin']).toBe('https://admin.example.com');
      expect(String(r.headers['access-control-expose-headers']).toLowerCase()).toContain('etag');
    });
  },
  { INFINITY_CORS_ORIGINS: 'https://admin.example.com' },
);
