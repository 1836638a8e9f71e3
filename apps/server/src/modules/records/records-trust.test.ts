import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

/** Regression tests for issue #25 (data): answers that say what is wrong, per-item bulk results, names. */
describeEachDb('records: trustworthy answers', (h) => {
  let key: string;
  const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
  const data = async (method: string, url: string, body?: unknown, status = 200) => {
    const r = await req(method, url, body);
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status);
    return r.json();
  };
  const ids: Record<string, string> = {};

  it('sets up deals, with companies, contacts (cascade), notes (set null), invoices (restrict)', async () => {
    const u = await signUp(h());
    key = (await createApiKey(h(), u.token, 'editor')).key;
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'deals',
        fields: [
          { name: 'title', type: 'string', required: true },
          { name: 'revenue', type: 'number' },
          { name: 'seats', type: 'integer' },
          { name: 'won', type: 'boolean' },
          { name: 'code', type: 'string', unique: true },
          { name: 'tags', type: 'array', items: 'string' },
        ],
      },
      201,
    );
    await data('POST', '/api/v1/models', { name: 'companies', fields: [{ name: 'name', type: 'string', required: true }] }, 201);
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'contacts',
        fields: [
          { name: 'name', type: 'string' },
          { name: 'company', type: 'relation', target: 'companies', onDelete: 'cascade' },
        ],
      },
      201,
    );
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'notes',
        fields: [
          { name: 'text', type: 'string' },
          { name: 'contact', type: 'relation', target: 'contacts', onDelete: 'set null' },
        ],
      },
      201,
    );
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'invoices',
        fields: [
          { name: 'total', type: 'number' },
          { name: 'company', type: 'relation', target: 'companies', onDelete: 'restrict' },
        ],
      },
      201,
    );
  });

  it('a wrong value type says the type, not "is required" (revenue "abc" → revenue must be a number)', async () => {
    const r = await req('POST', '/api/v1/data/deals', { title: 'Big', revenue: 'abc', seats: 1.5, won: 'yes', tags: 'x' });
    expect(r.statusCode).toBe(422);
    const byField = Object.fromEntries(r.json().error.details.map((d: { field: string; code: string; message: string }) => [d.field, d]));
    expect(byField.revenue).toMatchObject({ code: 'invalid_type', message: 'must be a number' });
    expect(byField.seats.message).toBe('must be an integer');
    expect(byField.won.message).toBe('must be true or false');
    expect(byField.tags.message).toMatch(/must be a list/);
    expect(r.json().error.message).not.toContain('is required');
    const text = await req('POST', '/api/v1/data/deals', { title: 42 });
    expect(text.json().error.details[0]).toMatchObject({ field: 'title', message: 'must be text (a JSON string)' });
    // A missing or null required value still says so.
    const missing = await req('POST', '/api/v1/data/deals', { revenue: 5 });
    expect(missing.json().error.details).toEqual([{ field: 'title', code: 'required', message: 'is required' }]);
    expect((await req('POST', '/api/v1/data/deals', { title: null })).json().error.details[0]).toMatchObject({ field: 'title', code: 'required' });
    // The same messages in bulk items.
    const bulk = await req('POST', '/api/v1/data/deals/bulk', { op: 'create', items: [{ title: 'ok' }, { title: 'x', revenue: 'abc' }] });
    expect(bulk.json().error.details).toEqual([{ index: 1, field: 'revenue', code: 'invalid_type', message: 'must be a number' }]);
  });

  it('bulk create returns each item’s id by index; update, upsert and delete too', async () => {
    const made = await data('POST', '/api/v1/data/deals/bulk', { op: 'create', items: [{ title: 'A', code: 'a' }, { title: 'B', code: 'b' }, { title: 'C' }] });
    expect(made.data).toMatchObject({ op: 'create', count: 3, created: 3, updated: 0 });
    expect(made.data.items.map((i: { index: number }) => i.index)).toEqual([0, 1, 2]);
    for (const [i, title] of ['A', 'B', 'C'].entries()) expect((await data('GET', `/api/v1/data/deals/${made.data.items[i].id}`)).data.title).toBe(title);
    ids.a = made.data.items[0].id;
    ids.c = made.data.items[2].id;
    const up = await data('POST', '/api/v1/data/deals/bulk', {
      op: 'upsert',
      key: 'code',
      items: [
        { title: 'A2', code: 'a' },
        { title: 'D', code: 'd' },
      ],
    });
    expect(up.data.items).toEqual([
      { index: 0, id: ids.a, created: false },
      { index: 1, id: expect.any(String), created: true },
    ]);
    const upd = await data('POST', '/api/v1/data/deals/bulk', { op: 'update', items: [{ id: ids.c, revenue: 3 }] });
    expect(upd.data.items).toEqual([{ index: 0, id: ids.c }]);
    const del = await data('POST', '/api/v1/data/deals/bulk', { op: 'delete', items: [up.data.items[1].id] });
    expect(del.data.items).toEqual([{ index: 0, id: up.data.items[1].id }]);
  });

  it('a bulk refusal counts items, not problems, and writes nothing', async () => {
    const before = (await data('GET', '/api/v1/data/deals?count=exact&limit=1')).meta.total;
    const r = await req('POST', '/api/v1/data/deals/bulk', { op: 'create', items: [{ title: 'ok' }, { revenue: 'x', seats: 'y', won: 1 }] });
    expect(r.statusCode).toBe(422);
    expect(r.json().error.details).toHaveLength(4);
    expect(r.json().error.message).toMatch(/^1 item\(s\) refused/);
    expect((await data('GET', '/api/v1/data/deals?count=exact&limit=1')).meta.total).toBe(before);
  });

  it('a bulk unique clash names the item (index), with stored records and within the batch', async () => {
    const before = (await data('GET', '/api/v1/data/deals?count=exact&limit=1')).meta.total;
    const r = await req('POST', '/api/v1/data/deals/bulk', {
      op: 'create',
      items: [
        { title: 'n1', code: 'new' },
        { title: 'n2', code: 'b' },
        { title: 'n3', code: 'new' },
      ],
    });
    expect(r.statusCode).toBe(409);
    expect(r.json().error.code).toBe('RECORD_UNIQUE_VIOLATION');
    expect(r.json().error.details).toEqual([
      { index: 1, field: 'code', code: 'unique', message: 'another deals record already has this code' },
      { index: 2, field: 'code', code: 'unique', message: 'repeats the code of item 0' },
    ]);
    expect((await data('GET', '/api/v1/data/deals?count=exact&limit=1')).meta.total).toBe(before);
  });

  it('filter or sort on a prototype-member name: a real field works, an unknown one is the normal unknown-field 400', async () => {
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'protos',
        fields: [
          { name: 'constructor', type: 'string' },
          { name: 'n', type: 'integer' },
        ],
      },
      201,
    );
    await data('POST', '/api/v1/data/protos/bulk', {
      op: 'create',
      items: [
        { constructor: 'b', n: 1 },
        { constructor: 'a', n: 2 },
      ],
    });
    expect((await data('GET', '/api/v1/data/protos?filter[constructor][eq]=a')).data.map((x: { n: number }) => x.n)).toEqual([2]);
    expect((await data('GET', '/api/v1/data/protos?sort=constructor')).data.map((x: { n: number }) => x.n)).toEqual([2, 1]);
    expect(
      (await data('GET', `/api/v1/data/protos?filter=${encodeURIComponent(JSON.stringify({ constructor: 'b' }))}`)).data.map((x: { n: number }) => x.n),
    ).toEqual([1]);
    for (const name of ['toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      for (const url of [
        `/api/v1/data/protos?sort=${name}`,
        `/api/v1/data/protos?filter[${name}][eq]=x`,
        `/api/v1/data/protos?fields=${name}`,
        `/api/v1/data/protos?filter=${encodeURIComponent(`{"${name}":"x"}`)}`,
      ]) {
        const r = await req('GET', url);
        expect(r.statusCode, `${url}: ${r.body}`).toBe(400);
        expect(r.json().error.code).toBe('QUERY_INVALID');
        expect(r.json().error.message, url).toMatch(/unknown field/);
      }
    }
  });

  it('fields may name an inverse relation that expand names (fields=name,contacts&expand=contacts)', async () => {
    ids.acme = (await data('POST', '/api/v1/data/companies', { name: 'Acme' }, 201)).data.id;
    ids.ann = (await data('POST', '/api/v1/data/contacts', { name: 'Ann', company: ids.acme }, 201)).data.id;
    const r = await data('GET', '/api/v1/data/companies?fields=name,contacts&expand=contacts');
    expect(r.data).toEqual([{ id: ids.acme, name: 'Acme', contacts: [expect.objectContaining({ id: ids.ann, name: 'Ann' })] }]);
    const without = await req('GET', '/api/v1/data/companies?fields=name,contacts');
    expect(without.statusCode).toBe(400);
    expect(without.json().error.message).toContain('expand');
  });

  it('score and q are field names like any other (a lead score is the first field people add)', async () => {
    const m = await data(
      'POST',
      '/api/v1/models',
      {
        name: 'leads',
        fields: [
          { name: 'score', type: 'integer' },
          { name: 'q', type: 'string' },
        ],
      },
      201,
    );
    expect(m.data.fields.map((f: { name: string }) => f.name)).toEqual(['score', 'q']);
    await data('POST', '/api/v1/data/leads', { score: 7, q: 'quarter' }, 201);
    await data('POST', '/api/v1/data/leads', { score: 3, q: 'other' }, 201);
    expect((await data('GET', '/api/v1/data/leads?filter[score][gt]=5')).data.map((x: { q: string }) => x.q)).toEqual(['quarter']);
    expect((await data('GET', '/api/v1/data/leads?filter[q][eq]=other&sort=-score')).data.map((x: { score: number }) => x.score)).toEqual([3]);
    expect((await data('GET', '/api/v1/data/leads?q=quarter')).data.map((x: { score: number }) => x.score)).toEqual([7]);
    // A keyword search keeps the record's own score; the similarity is in _score.
    const hits = await data('POST', '/api/v1/data/leads/search', { query: 'quarter', mode: 'keyword' });
    expect(hits.data[0]).toMatchObject({ score: 7, q: 'quarter', _score: expect.any(Number) });
    // Names that do collide with system columns stay reserved.
    for (const name of ['id', 'created_at', 'createdAt', 'xmin']) {
      const r = await req('POST', '/api/v1/models', { name: 'clash', fields: [{ name, type: 'string' }] });
      expect(r.statusCode, name).toBe(400);
      expect(r.body).toContain('reserved');
    }
  });

  it('typed names become identifiers with the typed text as label (First Name → first_name; Customers → customers)', async () => {
    const m = await data(
      'POST',
      '/api/v1/models',
      {
        name: 'Customers',
        fields: [
          { name: 'First Name', type: 'string' },
          { name: 'E-mail address', type: 'string', label: 'Email' },
          { name: 'age', type: 'integer' },
          { name: 'Home Company', type: 'relation', target: 'Companies' },
        ],
      },
      201,
    );
    expect(m.data).toMatchObject({ name: 'customers', label: 'Customers' });
    expect(m.data.fields.map((f: { name: string; label?: string }) => [f.name, f.label])).toEqual([
      ['first_name', 'First Name'],
      ['e_mail_address', 'Email'],
      ['age', undefined],
      ['home_company', 'Home Company'],
    ]);
    expect(m.data.fields[3].target).toBe('companies');
    await data('POST', '/api/v1/data/customers', { first_name: 'Ada', home_company: ids.acme }, 201);
    const added = await data('PATCH', '/api/v1/models/customers', { addFields: [{ name: 'Lead Score', type: 'integer' }] });
    expect(added.data.fields.at(-1)).toMatchObject({ name: 'lead_score', label: 'Lead Score' });
    const bad = await req('POST', '/api/v1/models', { name: 'People', fields: [{ name: 'ID', type: 'string' }] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0]).toMatchObject({ field: 'body.fields.0.name' });
    expect(bad.json().error.details[0].message).toContain('"ID" becomes "id"');
  });

  it('delete-impact previews what a delete removes, sets null and restricts, with counts per model; nothing is deleted', async () => {
    ids.globex = (await data('POST', '/api/v1/data/companies', { name: 'Globex' }, 201)).data.id;
    const c = await data('POST', '/api/v1/data/contacts/bulk', {
      op: 'create',
      items: [
        { name: 'Gil', company: ids.globex },
        { name: 'Gus', company: ids.globex },
      ],
    });
    await data('POST', '/api/v1/data/notes/bulk', {
      op: 'create',
      items: [
        { text: 'n1', contact: c.data.items[0].id },
        { text: 'n2', contact: c.data.items[1].id },
        { text: 'n3', contact: ids.ann },
      ],
    });
    const one = (await data('GET', `/api/v1/data/companies/${ids.globex}/delete-impact`)).data;
    expect(one).toEqual({
      model: 'companies',
      records: 1,
      missing: [],
      removed: [{ model: 'contacts', relation: 'contacts.company', count: 2 }],
      setNull: [{ model: 'notes', relation: 'notes.contact', count: 2 }],
      restrict: [],
      blocked: false,
      truncated: false,
    });
    await data('POST', '/api/v1/data/invoices', { total: 10, company: ids.acme }, 201);
    const ghost = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';
    const both = (await data('POST', '/api/v1/data/companies/delete-impact', { ids: [ids.globex, ids.acme, ghost] })).data;
    expect(both).toMatchObject({
      records: 2,
      missing: [ghost],
      removed: [{ model: 'contacts', relation: 'contacts.company', count: 3 }],
      setNull: [{ model: 'notes', relation: 'notes.contact', count: 3 }],
      restrict: [
        { model: 'customers', relation: 'customers.home_company', count: 1 },
        { model: 'invoices', relation: 'invoices.company', count: 1 },
      ],
      blocked: true,
    });
    expect((await data('GET', '/api/v1/data/contacts?count=exact&limit=1')).meta.total).toBe(3);
    expect((await req('GET', `/api/v1/data/companies/${ghost}/delete-impact`)).statusCode).toBe(404);
    // The preview is what the delete does.
    expect((await req('DELETE', `/api/v1/data/companies/${ids.globex}`)).statusCode).toBe(204);
    expect((await data('GET', '/api/v1/data/contacts?count=exact&limit=1')).meta.total).toBe(1);
    expect((await data('GET', '/api/v1/data/notes?filter[contact][isNull]=true&count=exact&limit=1')).meta.total).toBe(2);
  });

  it('the import 415 names what import accepts (CSV, JSON, a file upload)', async () => {
    const r = await h().request({
      method: 'POST',
      url: '/api/v1/data/deals/import',
      apiKey: key,
      payload: 'title\nx',
      headers: { 'content-type': 'text/plain' },
    });
    expect(r.statusCode).toBe(415);
    expect(r.json().error.message).toContain('text/csv');
    expect(r.json().error.message).toContain('multipart/form-data');
    expect(r.json().error.message).not.toBe('This Content-Type is not accepted; send application/json.');
    // Elsewhere JSON is still all there is.
    const other = await h().request({ method: 'POST', url: '/api/v1/data/deals', apiKey: key, payload: 'title=x', headers: { 'content-type': 'text/plain' } });
    expect(other.statusCode).toBe(415);
    expect(other.json().error.message).toBe('This Content-Type is not accepted; send application/json.');
  });
});
