import { expect, it } from 'vitest';
import { newId } from '../../platform/ids.js';
import { signUp, type TestUser } from '../../platform/testing/actors.js';
import { describeEachDb, type Harness } from '../../platform/testing/harness.js';

const companies = {
  name: 'companies',
  fields: [
    { name: 'name', type: 'string', required: true, unique: true, max: 200 },
    { name: 'size', type: 'integer', min: 0 },
  ],
};
const employees = {
  name: 'employees',
  label: 'Employees',
  fields: [
    { name: 'email', type: 'string', required: true, unique: true, max: 200, pattern: '^.+@.+$' },
    { name: 'age', type: 'integer', min: 16 },
    { name: 'active', type: 'boolean', default: true },
    { name: 'tags', type: 'array', items: 'string' },
    { name: 'level', type: 'enum', values: ['junior', 'senior'] },
    { name: 'company', type: 'relation', target: 'companies', kind: 'many-to-one', onDelete: 'cascade' },
  ],
};

async function schemaOf(h: Harness, u: TestUser): Promise<string> {
  return (await h.request({ method: 'GET', url: '/api/v1/me', token: u.token })).json().data.organization.schema;
}

describeEachDb('models: definitions become real tables', (h) => {
  let u: TestUser;
  it('creates models with real constraints, relations and inverse sides', async () => {
    u = await signUp(h());
    expect((await h().request({ method: 'POST', url: '/api/v1/models', token: u.token, body: companies })).statusCode).toBe(201);
    const e = await h().request({ method: 'POST', url: '/api/v1/models', token: u.token, body: employees });
    expect(e.statusCode, e.body).toBe(201);
    const p = await h().request({
      method: 'POST',
      url: '/api/v1/models',
      token: u.token,
      body: {
        name: 'profiles',
        fields: [
          { name: 'bio', type: 'text' },
          { name: 'employee', type: 'relation', target: 'employees', kind: 'one-to-one', onDelete: 'set null' },
        ],
      },
    });
    expect(p.statusCode, p.body).toBe(201);
    const c = (await h().request({ method: 'GET', url: '/api/v1/models/companies', token: u.token })).json().data;
    expect(c.inverse).toEqual([{ name: 'employees', model: 'employees', field: 'company', kind: 'one-to-many' }]);
    const schema = await schemaOf(h(), u);
    const cols = await h().db.pool.query(
      `select column_name, data_type, is_nullable from information_schema.columns where table_schema = $1 and table_name = 'employees' order by ordinal_position`,
      [schema],
    );
    expect(cols.rows.map((r) => `${r.column_name}:${r.data_type}:${r.is_nullable}`)).toEqual([
      'id:uuid:NO',
      'created_at:timestamp with time zone:NO',
      'updated_at:timestamp with time zone:NO',
      'created_by:text:YES',
      'updated_by:text:YES',
      'email:text:NO',
      'age:bigint:YES',
      'active:boolean:YES',
      'tags:ARRAY:YES',
      'level:text:YES',
      'company:uuid:YES',
    ]);
    const company = newId();
    await h().db.pool.query(`insert into "${schema}".companies (id, name) values ($1, 'Acme')`, [company]);
    await expect(h().db.pool.query(`insert into "${schema}".companies (id, name) values ($1, 'Acme')`, [newId()])).rejects.toMatchObject({ code: '23505' });
    await expect(h().db.pool.query(`insert into "${schema}".employees (id, email, age) values ($1, 'a@b.c', 3)`, [newId()])).rejects.toMatchObject({
      code: '23514',
    });
    await expect(h().db.pool.query(`insert into "${schema}".employees (id, email, level) values ($1, 'a@b.c', 'boss')`, [newId()])).rejects.toMatchObject({
      code: '23514',
    });
    await expect(
      h().db.pool.query(`insert into "${schema}".employees (id, email, company) values ($1, 'a@b.c', $2)`, [newId(), newId()]),
    ).rejects.toMatchObject({ code: '23503' });
    const emp = newId();
    await h().db.pool.query(`insert into "${schema}".employees (id, email, company) values ($1, 'a@b.c', $2)`, [emp, company]);
    const active = await h().db.pool.query(`select active from "${schema}".employees where id = $1`, [emp]);
    expect(active.rows[0]!.active).toBe(true);
    const diagram = (await h().request({ method: 'GET', url: '/api/v1/schema/diagram', token: u.token })).json().data;
    expect(diagram.nodes.map((n: { id: string }) => n.id)).toEqual(['companies', 'employees', 'profiles']);
    expect(diagram.edges).toContainEqual({
      id: 'employees.company',
      source: 'employees',
      target: 'companies',
      field: 'company',
      kind: 'many-to-one',
      onDelete: 'cascade',
      inverse: 'employees',
    });
  });

  it('refuses bad definitions with a reason per problem, and creates nothing', async () => {
    const cases: [unknown, number, string][] = [
      // A typed name becomes an identifier ("Bad Name" → bad_name); one with nothing to make it from is refused.
      [{ name: '***', fields: [] }, 400, 'VALIDATION_FAILED'],
      [{ name: 'x"; drop table users; --', fields: [] }, 400, 'VALIDATION_FAILED'],
      [{ name: 'models', fields: [] }, 400, 'VALIDATION_FAILED'],
      [{ name: 'things', fields: [{ name: 'id', type: 'string' }] }, 400, 'VALIDATION_FAILED'],
      [{ name: 'things', fields: [{ name: 'a', type: 'varchar' }] }, 400, 'VALIDATION_FAILED'],
      [{ name: 'things', fields: [{ name: 'a', type: 'string', min: 5, max: 2 }] }, 422, 'MODEL_INVALID'],
      [
        {
          name: 'things',
          fields: [
            { name: 'a', type: 'string' },
            { name: 'a', type: 'text' },
          ],
        },
        422,
        'MODEL_INVALID',
      ],
      [{ name: 'things', fields: [{ name: 'l', type: 'enum', values: ['a'], default: 'b' }] }, 422, 'MODEL_INVALID'],
      [{ name: 'things', fields: [{ name: 'o', type: 'relation', target: 'nowhere' }] }, 422, 'MODEL_RELATION_TARGET_MISSING'],
      [{ name: 'things', fields: [{ name: 'p', type: 'string', pattern: '([' }] }, 400, 'VALIDATION_FAILED'],
      [{ name: 'companies', fields: [] }, 409, 'MODEL_NAME_TAKEN'],
    ];
    for (const [body, status, code] of cases) {
      const r = await h().request({ method: 'POST', url: '/api/v1/models', token: u.token, body });
      expect(r.statusCode, `${JSON.stringify(body)} → ${r.body}`).toBe(status);
      expect(r.json().error.code).toBe(code);
    }
    const names = (await h().request({ method: 'GET', url: '/api/v1/models', token: u.token })).json().data.map((m: { name: string }) => m.name);
    expect(names).toEqual(['companies', 'employees', 'profiles']);
  });

  it('applies safe changes in one transaction, recording a version each time', async () => {
    const r = await h().request({
      method: 'PATCH',
      url: '/api/v1/models/companies',
      token: u.token,
      body: {
        addFields: [
          { name: 'founded', type: 'date' },
          { name: 'country', type: 'string', required: true, default: 'NL' },
        ],
        renameFields: [{ from: 'size', to: 'headcount' }],
        label: 'Companies',
      },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().data.fields.map((f: { name: string }) => f.name)).toEqual(['name', 'headcount', 'founded', 'country']);
    const schema = await schemaOf(h(), u);
    const filled = await h().db.pool.query(`select country from "${schema}".companies`);
    expect(filled.rows[0]!.country).toBe('NL');
    // integer → number is safe; a check still applies after the type change (min 0 carried over).
    const t = await h().request({
      method: 'PATCH',
      url: '/api/v1/models/companies',
      token: u.token,
      body: { updateFields: [{ name: 'headcount', type: 'number', min: 0 }] },
    });
    expect(t.statusCode, t.body).toBe(200);
    await expect(h().db.pool.query(`update "${schema}".companies set headcount = -1`)).rejects.toMatchObject({ code: '23514' });
    const versions = (await h().request({ method: 'GET', url: '/api/v1/models/companies/versions', token: u.token })).json().data;
    expect(versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]);
  });

  it('refuses unsafe changes, naming the field, the reason and the fix, and changes nothing', async () => {
    const schema = await schemaOf(h(), u);
    await h().db.pool.query(`insert into "${schema}".companies (id, name, headcount) values ($1, 'Beta', 12.5)`, [newId()]);
    const before = (await h().request({ method: 'GET', url: '/api/v1/models/companies', token: u.token })).json().data;
    const cases: [unknown, number, string, string][] = [
      [{ addFields: [{ name: 'vat', type: 'string', required: true }] }, 422, 'MODEL_CHANGE_UNSAFE', 'vat'],
      [{ updateFields: [{ name: 'headcount', type: 'integer' }] }, 422, 'MODEL_CHANGE_UNSAFE', 'headcount'],
      [{ updateFields: [{ name: 'name', type: 'json' }] }, 422, 'MODEL_CHANGE_UNSAFE', 'name'],
      [{ updateFields: [{ name: 'country', type: 'string', unique: true, required: true, default: 'NL' }] }, 422, 'MODEL_CHANGE_UNSAFE', 'country'],
      [{ updateFields: [{ name: 'founded', type: 'date', required: true }] }, 422, 'MODEL_CHANGE_UNSAFE', 'founded'],
      [{ updateFields: [{ name: 'headcount', type: 'number', max: 5 }] }, 422, 'MODEL_CHANGE_UNSAFE', 'headcount'],
      [{ updateFields: [{ name: 'name', type: 'integer', required: true }] }, 422, 'MODEL_CHANGE_UNSAFE', 'name'],
      [{ dropFields: ['nope'] }, 422, 'MODEL_FIELD_NOT_FOUND', 'nope'],
      [{ rename: 'employees' }, 409, 'MODEL_NAME_TAKEN', ''],
      [{ addFields: [{ name: 'extra', type: 'string' }], dropFields: ['nope'] }, 422, 'MODEL_FIELD_NOT_FOUND', 'nope'],
    ];
    for (const [body, status, code, field] of cases) {
      const r = await h().request({ method: 'PATCH', url: '/api/v1/models/companies', token: u.token, body });
      expect(r.statusCode, `${JSON.stringify(body)} → ${r.body}`).toBe(status);
      expect(r.json().error.code).toBe(code);
      if (code === 'MODEL_CHANGE_UNSAFE') {
        expect(r.json().error.details.field).toBe(field);
        expect(r.json().error.details.fix).toBeTruthy();
      }
    }
    const after = (await h().request({ method: 'GET', url: '/api/v1/models/companies', token: u.token })).json().data;
    expect(after).toEqual(before);
    const cols = await h().db.pool.query(`select count(*)::int as n from information_schema.columns where table_schema = $1 and table_name = 'companies'`, [
      schema,
    ]);
    expect(cols.rows[0]!.n).toBe(5 + 4);
  });

  it('renames a model and keeps relations pointing at it; refuses to drop a model in use', async () => {
    const r = await h().request({ method: 'PATCH', url: '/api/v1/models/companies', token: u.token, body: { rename: 'firms' } });
    expect(r.statusCode, r.body).toBe(200);
    const e = (await h().request({ method: 'GET', url: '/api/v1/models/employees', token: u.token })).json().data;
    expect(e.fields.find((f: { name: string }) => f.name === 'company').target).toBe('firms');
    const del = await h().request({ method: 'DELETE', url: '/api/v1/models/firms', token: u.token });
    expect(del.statusCode).toBe(409);
    expect(del.json().error.message).toContain('employees.company');
    expect((await h().request({ method: 'DELETE', url: '/api/v1/models/profiles', token: u.token })).statusCode).toBe(204);
    expect((await h().request({ method: 'GET', url: '/api/v1/models/profiles', token: u.token })).statusCode).toBe(404);
  });

  it('viewers read models but cannot change them', async () => {
    const viewerKey = (await h().request({ method: 'POST', url: '/api/v1/api-keys', token: u.token, body: { name: 'v', role: 'viewer' } })).json().data.key;
    expect((await h().request({ method: 'GET', url: '/api/v1/models', apiKey: viewerKey })).statusCode).toBe(200);
    expect((await h().request({ method: 'POST', url: '/api/v1/models', apiKey: viewerKey, body: { name: 'x', fields: [] } })).statusCode).toBe(403);
  });
});
