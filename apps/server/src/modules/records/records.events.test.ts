import type { DomainEvent } from '@infinity/contracts';
import { expect, it, onTestFinished } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { type Harness, describeEachDb } from '../../platform/testing/harness.js';

type RecordEvent = Extract<DomainEvent, { type: 'record.created' | 'record.updated' | 'record.deleted' }>;

/** A fresh organization with an editor key, and every typed record event of that organization as it arrives. */
async function setUp(h: Harness) {
  const u = await signUp(h);
  const key = await createApiKey(h, u.token, 'editor');
  const events: RecordEvent[] = [];
  const keep = (e: RecordEvent) => {
    if (e.orgId === u.orgId) events.push(e);
  };
  for (const off of [
    h.built.events.subscribe('record.created', keep),
    h.built.events.subscribe('record.updated', keep),
    h.built.events.subscribe('record.deleted', keep),
  ])
    onTestFinished(off);
  const req = (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
    h.request({ method, url, apiKey: key.key, body, ...(headers ? { headers } : {}) });
  const ok = async (method: string, url: string, body?: unknown, status = 200) => {
    const r = await req(method, url, body);
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status);
    return (r.body ? r.json().data : undefined) as Record<string, unknown>;
  };
  const model = (name: string, fields: unknown[]) => ok('POST', '/api/v1/models', { name, fields }, 201);
  return { u, key, events, req, ok, model };
}

const brief = (e: RecordEvent) => [e.type, e.model, e.recordId, 'cause' in e && e.cause ? `${e.cause.model}:${e.cause.recordId}` : null];

describeEachDb('typed record events', (h) => {
  it('carry the record after a create, before and after with the changed fields for an update, and before a delete', async () => {
    const t = await setUp(h());
    await t.model('notes', [
      { name: 'title', type: 'string', unique: true },
      { name: 'body', type: 'text' },
    ]);
    const created = await t.ok('POST', '/api/v1/data/notes', { title: 'a', body: 'x' }, 201);
    const id = created.id as string;
    const patched = await t.ok('PATCH', `/api/v1/data/notes/${id}`, { body: 'y' });
    const replaced = await t.ok('PUT', `/api/v1/data/notes/${id}`, { title: 'b' });
    await t.ok('DELETE', `/api/v1/data/notes/${id}`, undefined, 204);

    expect(t.events.map(brief)).toEqual([
      ['record.created', 'notes', id, null],
      ['record.updated', 'notes', id, null],
      ['record.updated', 'notes', id, null],
      ['record.deleted', 'notes', id, null],
    ]);
    const [c, p, r, d] = t.events as [
      Extract<RecordEvent, { type: 'record.created' }>,
      Extract<RecordEvent, { type: 'record.updated' }>,
      Extract<RecordEvent, { type: 'record.updated' }>,
      Extract<RecordEvent, { type: 'record.deleted' }>,
    ];
    // Every event names its organization, the permission to read it and who wrote; ids are unique.
    for (const e of t.events) {
      expect(e).toMatchObject({ orgId: t.u.orgId, permission: 'records:read', actor: { type: 'apiKey', id: t.key.id } });
      expect(Date.parse(e.at)).not.toBeNaN();
    }
    expect(new Set(t.events.map((e) => e.id)).size).toBe(4);
    // The records in the events are the records the API answered with.
    expect(c.after).toEqual(created);
    expect(p).toMatchObject({ before: created, after: patched, changed: ['body'] });
    expect(p.before?.updatedAt).not.toBe(p.after.updatedAt);
    // PUT replaces: every field changed (an absent one went back to null).
    expect(r).toMatchObject({ before: patched, after: replaced, changed: ['title', 'body'] });
    expect(r.after.body).toBeNull();
    expect(d.before).toEqual(replaced);
    expect('cause' in d).toBe(false);
  });

  it('tell what the database did on its own: cascaded deletes and relations set to null, with the record that caused them', async () => {
    const t = await setUp(h());
    await t.model('companies', [{ name: 'name', type: 'string' }]);
    await t.model('employees', [
      { name: 'name', type: 'string' },
      { name: 'company', type: 'relation', target: 'companies', kind: 'many-to-one', onDelete: 'cascade' },
      { name: 'mentor', type: 'relation', target: 'employees', kind: 'many-to-one', onDelete: 'set null' },
    ]);
    await t.model('reviews', [
      { name: 'text', type: 'string' },
      { name: 'employee', type: 'relation', target: 'employees', kind: 'many-to-one', onDelete: 'cascade' },
    ]);
    await t.model('profiles', [
      { name: 'bio', type: 'string' },
      { name: 'employee', type: 'relation', target: 'employees', kind: 'one-to-one', onDelete: 'set null' },
    ]);
    const acme = (await t.ok('POST', '/api/v1/data/companies', { name: 'Acme' }, 201)).id as string;
    const other = (await t.ok('POST', '/api/v1/data/companies', { name: 'Other' }, 201)).id as string;
    const ann = (await t.ok('POST', '/api/v1/data/employees', { name: 'Ann', company: acme }, 201)).id as string;
    // Bob (another company) is mentored by Ann: set to null, not deleted.
    const bob = await t.ok('POST', '/api/v1/data/employees', { name: 'Bob', company: other, mentor: ann }, 201);
    // Cid (Acme, also mentored by Ann) goes with the company: deleted, not also "set to null".
    const cid = (await t.ok('POST', '/api/v1/data/employees', { name: 'Cid', company: acme, mentor: ann }, 201)).id as string;
    const review = (await t.ok('POST', '/api/v1/data/reviews', { text: 'good', employee: cid }, 201)).id as string;
    const profile = await t.ok('POST', '/api/v1/data/profiles', { bio: 'hi', employee: ann }, 201);
    t.events.length = 0;

    await t.ok('DELETE', `/api/v1/data/companies/${acme}`, undefined, 204);
    expect(t.events.map(brief)).toEqual([
      ['record.deleted', 'companies', acme, null],
      ['record.deleted', 'employees', ann, `companies:${acme}`],
      ['record.deleted', 'employees', cid, `companies:${acme}`],
      ['record.deleted', 'reviews', review, `employees:${cid}`],
      ['record.updated', 'employees', bob.id, `employees:${ann}`],
      ['record.updated', 'profiles', profile.id, `employees:${ann}`],
    ]);
    const nulled = t.events.filter((e) => e.type === 'record.updated');
    expect(nulled[0]).toMatchObject({ before: bob, after: { ...bob, mentor: null }, changed: ['mentor'] });
    expect(nulled[1]).toMatchObject({ before: profile, after: { ...profile, employee: null }, changed: ['employee'] });
    // The events say what the database holds now.
    expect(await t.ok('GET', `/api/v1/data/employees/${bob.id as string}`)).toEqual({ ...bob, mentor: null });
    expect((await t.req('GET', `/api/v1/data/reviews/${review}`)).statusCode).toBe(404);

    // A bulk delete tells the same, one event per record.
    const dan = (await t.ok('POST', '/api/v1/data/employees', { name: 'Dan', company: other }, 201)).id as string;
    const eve = await t.ok('POST', '/api/v1/data/profiles', { bio: 'eve', employee: dan }, 201);
    t.events.length = 0;
    await t.ok('POST', '/api/v1/data/employees/bulk', { op: 'delete', items: [dan, bob.id] });
    expect(t.events.map(brief)).toEqual([
      ['record.deleted', 'employees', dan, null],
      ['record.deleted', 'employees', bob.id, null],
      ['record.updated', 'profiles', eve.id, `employees:${dan}`],
    ]);
  });

  it('deliver nothing for a write that rolled back: a refused bulk, a failed action step, a restricted or stale delete', async () => {
    const t = await setUp(h());
    await t.model('teams', [{ name: 'name', type: 'string', unique: true }]);
    await t.model('desks', [{ name: 'team', type: 'relation', target: 'teams', kind: 'many-to-one', onDelete: 'restrict' }]);
    const team = await t.ok('POST', '/api/v1/data/teams', { name: 'a' }, 201);
    await t.ok('POST', '/api/v1/data/desks', { team: team.id }, 201);
    t.events.length = 0;

    expect((await t.req('POST', '/api/v1/data/teams/bulk', { op: 'create', items: [{ name: 'b' }, { name: 'b' }] })).statusCode).toBe(409);
    expect((await t.req('DELETE', `/api/v1/data/teams/${team.id as string}`)).statusCode).toBe(409);
    expect((await t.req('DELETE', `/api/v1/data/teams/${team.id as string}`, undefined, { 'if-match': '"2001-01-01T00:00:00.000000Z"' })).statusCode).toBe(412);
    const action = await t.ok(
      'POST',
      '/api/v1/actions',
      {
        name: 'two teams',
        steps: [
          { id: 'first', op: 'create', model: 'teams', values: { name: 'c' } },
          { id: 'second', op: 'create', model: 'teams', values: { name: 'a' } },
        ],
      },
      201,
    );
    const run = await t.req('POST', `/api/v1/actions/${action.id as string}/run`, { params: {} });
    expect(run.json().error?.details?.run?.status ?? run.json().data?.status).toBe('failed');
    expect(t.events).toEqual([]);

    // And a bulk that commits delivers one event per row, after the commit.
    await t.ok('POST', '/api/v1/data/teams/bulk', { op: 'create', items: [{ name: 'd' }, { name: 'e' }] });
    await t.ok('POST', '/api/v1/data/teams/bulk', { op: 'upsert', key: 'name', items: [{ name: 'e' }, { name: 'f' }] });
    expect(t.events.map((e) => [e.type, e.type === 'record.deleted' ? e.before.name : e.after.name])).toEqual([
      ['record.created', 'd'],
      ['record.created', 'e'],
      ['record.updated', 'e'],
      ['record.created', 'f'],
    ]);
  });
});
