import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

describeEachDb('records API', (h) => {
  let key: string;
  const ids: Record<string, string> = {};
  const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
  const data = async (method: string, url: string, body?: unknown, status = 200) => {
    const r = await req(method, url, body);
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBe(status);
    return r.json();
  };

  it('sets up companies, employees (many-to-one, cascade), profiles (one-to-one, set null) and desks (restrict) with an API key', async () => {
    const u = await signUp(h());
    key = (await createApiKey(h(), u.token, 'editor')).key;
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'companies',
        fields: [
          { name: 'name', type: 'string', required: true, unique: true },
          { name: 'country', type: 'string' },
        ],
      },
      201,
    );
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'employees',
        fields: [
          { name: 'email', type: 'string', required: true, unique: true, max: 200, pattern: '^.+@.+$' },
          { name: 'name', type: 'string' },
          { name: 'age', type: 'integer', min: 16 },
          { name: 'salary', type: 'number' },
          { name: 'active', type: 'boolean', default: true },
          { name: 'tags', type: 'array', items: 'string' },
          { name: 'level', type: 'enum', values: ['junior', 'senior'] },
          { name: 'born', type: 'date' },
          { name: 'meta', type: 'json' },
          { name: 'company', type: 'relation', target: 'companies', kind: 'many-to-one', onDelete: 'cascade' },
        ],
      },
      201,
    );
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'profiles',
        fields: [
          { name: 'bio', type: 'text' },
          { name: 'employee', type: 'relation', target: 'employees', kind: 'one-to-one', onDelete: 'set null' },
        ],
      },
      201,
    );
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'desks',
        fields: [
          { name: 'label', type: 'string' },
          { name: 'company', type: 'relation', target: 'companies', onDelete: 'restrict' },
        ],
      },
      201,
    );
  });

  it('creates records with every type and answers in the documented shape', async () => {
    ids.acme = (await data('POST', '/api/v1/data/companies', { name: 'Acme', country: 'NL' }, 201)).data.id;
    ids.globex = (await data('POST', '/api/v1/data/companies', { name: 'Globex', country: 'US' }, 201)).data.id;
    const e = (
      await data(
        'POST',
        '/api/v1/data/employees',
        {
          email: 'ada@acme.io',
          name: 'Ada',
          age: 36,
          salary: 5200.5,
          tags: ['lead', 'math'],
          level: 'senior',
          born: '1990-12-10',
          meta: { desk: 4 },
          company: ids.acme,
        },
        201,
      )
    ).data;
    expect(e).toMatchObject({
      email: 'ada@acme.io',
      age: 36,
      salary: 5200.5,
      active: true,
      tags: ['lead', 'math'],
      level: 'senior',
      born: '1990-12-10',
      meta: { desk: 4 },
      company: ids.acme,
    });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(Date.parse(e.createdAt)).not.toBeNaN();
    expect(e.createdBy).toMatch(/^api_key:/);
    ids.ada = e.id;
    for (const [email, name, age, company, level] of [
      ['bob@acme.io', 'Bob', 22, ids.acme, 'junior'],
      ['cy@globex.io', 'Cy', 41, ids.globex, 'senior'],
      ['di@globex.io', 'Di', 19, ids.globex, null],
    ] as const) {
      ids[name] = (await data('POST', '/api/v1/data/employees', { email, name, age, company, level }, 201)).data.id;
    }
    ids.profile = (await data('POST', '/api/v1/data/profiles', { bio: 'Counts things', employee: ids.ada }, 201)).data.id;
    ids.desk = (await data('POST', '/api/v1/data/desks', { label: 'D1', company: ids.globex }, 201)).data.id;
  });

  it('refuses invalid values with one detail per field, duplicates with 409 naming the field, dangling relations with 409', async () => {
    const bad = await req('POST', '/api/v1/data/employees', { email: 'not-an-email', age: 3, level: 'boss', born: '2024-02-30', tags: 'x' });
    expect(bad.statusCode).toBe(422);
    const fields = bad
      .json()
      .error.details.map((d: { field: string }) => d.field)
      .sort();
    expect(fields).toEqual(['age', 'born', 'email', 'level', 'tags'].sort());
    const unknown = await req('POST', '/api/v1/data/employees', { email: 'u@x.io', salary_band: 'A' });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'salary_band', code: 'unknown_field' }] });
    const missing = await req('POST', '/api/v1/data/employees', { name: 'No email' });
    expect(missing.json().error.details).toContainEqual({ field: 'email', code: 'required', message: 'is required' });
    const dup = await req('POST', '/api/v1/data/employees', { email: 'ada@acme.io' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({ code: 'RECORD_UNIQUE_VIOLATION', details: [{ field: 'email' }] });
    const dangling = await req('POST', '/api/v1/data/employees', { email: 'x@y.z', company: '01900000-0000-7000-8000-000000000000' });
    expect(dangling.statusCode).toBe(409);
    expect(dangling.json().error).toMatchObject({ code: 'RECORD_RELATION_INVALID', details: [{ field: 'company' }] });
    expect((await req('GET', '/api/v1/data/nothing')).json().error.code).toBe('MODEL_NOT_FOUND');
  });

  it('filters (also across relations, both ways), sorts, selects fields and counts', async () => {
    const names = async (qs: string) => (await data('GET', `/api/v1/data/employees?${qs}`)).data.map((e: { name: string }) => e.name);
    expect(await names('filter[age][gte]=22&sort=-age')).toEqual(['Cy', 'Ada', 'Bob']);
    expect(await names('filter[company.name][eq]=Acme&sort=name')).toEqual(['Ada', 'Bob']);
    expect(await names(`filter[or][0][level][eq]=junior&filter[or][1][age][gt]=40&sort=name`)).toEqual(['Bob', 'Cy']);
    expect(await names('filter[level][isNull]=true')).toEqual(['Di']);
    expect(await names('filter[name][in]=Ada,Di&sort=-name')).toEqual(['Di', 'Ada']);
    expect(await names('filter[email][icontains]=GLOBEX&sort=name')).toEqual(['Cy', 'Di']);
    expect(await names('filter[tags][contains]=math')).toEqual(['Ada']);
    expect(await names(`filter=${encodeURIComponent(JSON.stringify({ and: [{ age: { lt: 40 } }, { 'company.country': 'NL' }] }))}&sort=age`)).toEqual([
      'Bob',
      'Ada',
    ]);
    expect(await names('q=cy')).toEqual(['Cy']);
    const companies = (await data('GET', '/api/v1/data/companies?filter[employees.age][gt]=40')).data.map((c: { name: string }) => c.name);
    expect(companies).toEqual(['Globex']);
    const slim = await data('GET', '/api/v1/data/employees?fields=name&sort=name&limit=1&count=exact');
    expect(slim.data).toEqual([{ id: ids.Ada ?? ids.ada, name: 'Ada' }]);
    expect(slim.meta).toMatchObject({ total: 4, limit: 1, offset: 0 });
    expect(slim.meta.nextCursor).toBeTruthy();
  });

  it('pages by cursor, stable under inserts, in any sort direction', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let first = true;
    do {
      const page: { data: { name: string }[]; meta: { nextCursor: string | null } } = await data(
        'GET',
        `/api/v1/data/employees?sort=-level,name&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      seen.push(...page.data.map((e) => e.name));
      if (first) {
        await data('POST', '/api/v1/data/employees', { email: 'aa@x.io', name: 'Aa', level: 'senior' }, 201);
        first = false;
      }
      cursor = page.meta.nextCursor;
    } while (cursor);
    // Nulls first in descending order; the row inserted before the cursor position is not repeated.
    expect(seen).toEqual(['Di', 'Ada', 'Cy', 'Bob']);
    expect((await req('GET', '/api/v1/data/employees?sort=name&cursor=bogus')).statusCode).toBe(400);
  });

  it('expands both directions', async () => {
    const e = (await data('GET', `/api/v1/data/employees/${ids.ada}?expand=company,profiles`)).data;
    expect(e.company).toMatchObject({ id: ids.acme, name: 'Acme' });
    expect(e.profiles).toMatchObject({ id: ids.profile, bio: 'Counts things' });
    const list = (await data('GET', '/api/v1/data/companies?expand=employees,desks&sort=name')).data;
    expect(list[0].employees.map((x: { name: string }) => x.name).sort()).toEqual(['Ada', 'Bob']);
    expect(list[1].desks.map((x: { label: string }) => x.label)).toEqual(['D1']);
    expect((await req('GET', '/api/v1/data/companies?expand=nonsense')).statusCode).toBe(400);
  });

  it('updates, replaces and deletes; cascade and set null follow, restrict refuses with 409 naming the relation', async () => {
    const u = (await data('PATCH', `/api/v1/data/employees/${ids.ada}`, { age: 37 })).data;
    expect(u).toMatchObject({ age: 37, name: 'Ada' });
    const r = (await data('PUT', `/api/v1/data/companies/${ids.acme}`, { name: 'Acme Corp' })).data;
    expect(r).toMatchObject({ name: 'Acme Corp', country: null });
    expect((await req('PATCH', `/api/v1/data/employees/${ids.ada}`, { email: null })).statusCode).toBe(422);
    const restricted = await req('DELETE', `/api/v1/data/companies/${ids.globex}`);
    expect(restricted.statusCode).toBe(409);
    expect(restricted.json().error).toMatchObject({ code: 'RECORD_DELETE_RESTRICTED', details: [{ relation: 'desks.company' }] });
    expect((await req('DELETE', `/api/v1/data/companies/${ids.acme}`)).statusCode).toBe(204);
    expect((await req('GET', `/api/v1/data/employees/${ids.ada}`)).statusCode).toBe(404);
    expect((await data('GET', `/api/v1/data/profiles/${ids.profile}`)).data.employee).toBeNull();
    expect((await req('DELETE', `/api/v1/data/companies/${ids.acme}`)).statusCode).toBe(404);
  });

  it('bulk: 10,000 rows in one call; all or nothing with per-item errors; upsert and delete', async () => {
    await data(
      'POST',
      '/api/v1/models',
      {
        name: 'items',
        fields: [
          { name: 'sku', type: 'string', required: true, unique: true },
          { name: 'qty', type: 'integer', min: 0 },
        ],
      },
      201,
    );
    const items = Array.from({ length: 10_000 }, (_, i) => ({ sku: `SKU-${i}`, qty: i % 100 }));
    expect((await data('POST', '/api/v1/data/items/bulk', { op: 'create', items })).data).toMatchObject({ op: 'create', count: 10_000 });
    const refused = await req('POST', '/api/v1/data/items/bulk', { op: 'create', items: [{ sku: 'new-1', qty: 1 }, { sku: 'new-2', qty: -5 }, { qty: 2 }] });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.details.map((d: { index: number; field: string }) => `${d.index}:${d.field}`)).toEqual(['1:qty', '2:sku']);
    const dupInDb = await req('POST', '/api/v1/data/items/bulk', { op: 'create', items: [{ sku: 'new-3' }, { sku: 'SKU-5' }] });
    expect(dupInDb.statusCode).toBe(409);
    const count = await data('GET', '/api/v1/data/items?limit=1&count=exact');
    expect(count.meta.total).toBe(10_000);
    const up = await data('POST', '/api/v1/data/items/bulk', {
      op: 'upsert',
      key: 'sku',
      items: [
        { sku: 'SKU-1', qty: 99 },
        { sku: 'SKU-NEW', qty: 7 },
      ],
    });
    expect(up.data.count).toBe(2);
    expect((await data('GET', '/api/v1/data/items?filter[sku][in]=SKU-1,SKU-NEW&sort=sku')).data.map((i: { qty: number }) => i.qty)).toEqual([99, 7]);
    const two = (await data('GET', '/api/v1/data/items?sort=sku&limit=2')).data.map((i: { id: string }) => i.id);
    expect((await data('POST', '/api/v1/data/items/bulk', { op: 'delete', items: two })).data.count).toBe(2);
    const gone = await req('POST', '/api/v1/data/items/bulk', { op: 'delete', items: [two[0]] });
    expect(gone.statusCode).toBe(422);
  });

  it('refuses hostile queries with 4xx and never a 500', async () => {
    const hostile = [
      "filter[name'; drop table users; --][eq]=x",
      'filter[age][gt]=abc',
      'filter[age][regex]=.*',
      'filter[meta][eq]=1',
      'filter=%7Bnot json',
      `filter=${encodeURIComponent(JSON.stringify(JSON.parse('{"a":'.repeat(30) + '1' + '}'.repeat(30))))}`,
      `filter[name][in]=${Array.from({ length: 2000 }, (_, i) => i).join(',')}`,
      'sort=name;drop',
      'sort=-meta',
      'limit=0',
      'limit=100000',
      'offset=-1',
      'fields=password_hash',
      'expand=../../users',
      'count=maybe',
      'cursor=eyJzIjoi',
      'filter[company.company.name][eq]=x',
      'filter[__proto__][x]=1',
      'unknown=1',
    ];
    for (const qs of hostile) {
      const r = await req('GET', `/api/v1/data/employees?${qs}`);
      expect(r.statusCode, `${qs} → ${r.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
      expect(r.statusCode, qs).toBeLessThan(500);
    }
    // SQL in a value is just data: bound as a parameter, it matches nothing.
    const value = await req('GET', `/api/v1/data/employees?filter[name][eq]=${encodeURIComponent("'; drop table users; --")}`);
    expect(value.statusCode).toBe(200);
    expect(value.json().data).toEqual([]);
    const count = await h().db.pool.query(`select count(*)::int as n from users`);
    expect(count.rows[0]!.n).toBeGreaterThan(0);
  });
});
