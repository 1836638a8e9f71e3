/**
 * The data service as an automation platform meets it: the built server as a process, real HTTP,
 * an API key, both databases.
 */
import { describe, expect, it } from 'vitest';
import { testBackends } from '../../apps/server/src/platform/testing/backends.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { e2eEnv, runCli, startServer } from './server-process.js';

for (const backend of testBackends()) {
  describe(`data service end to end [${backend}]`, () => {
    it('models with relations → records → filters across relations → cursor → expand → cascade/restrict → bulk 10,000', async () => {
      const env = await e2eEnv(backend, 'data');
      const s = await startServer([], env);
      try {
        const signup = await fetch(`${s.url}/api/v1/auth/signup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ name: 'Ops', email: 'ops@example.com', password: 'ops password 1' }),
        });
        const token = ((await signup.json()) as { data: { accessToken: string } }).data.accessToken;
        const keyRes = await fetch(`${s.url}/api/v1/api-keys`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
          body: JSON.stringify({ name: 'n8n', role: 'editor' }),
        });
        const key = ((await keyRes.json()) as { data: { key: string } }).data.key;
        const call = async (method: string, p: string, body?: unknown) => {
          const r = await fetch(`${s.url}/api/v1${p}`, {
            method,
            headers: { 'x-api-key': key, ...(body ? { 'content-type': 'application/json' } : {}) },
            ...(body ? { body: JSON.stringify(body) } : {}),
          });
          const text = await r.text();
          return { status: r.status, json: text ? JSON.parse(text) : undefined };
        };

        expect((await call('POST', '/models', { name: 'companies', fields: [{ name: 'name', type: 'string', required: true, unique: true }] })).status).toBe(
          201,
        );
        expect(
          (
            await call('POST', '/models', {
              name: 'employees',
              fields: [
                { name: 'email', type: 'string', required: true, unique: true },
                { name: 'age', type: 'integer' },
                { name: 'company', type: 'relation', target: 'companies', kind: 'many-to-one', onDelete: 'cascade' },
              ],
            })
          ).status,
        ).toBe(201);
        expect(
          (
            await call('POST', '/models', {
              name: 'profiles',
              fields: [
                { name: 'bio', type: 'text' },
                { name: 'employee', type: 'relation', target: 'employees', kind: 'one-to-one', onDelete: 'set null' },
              ],
            })
          ).status,
        ).toBe(201);
        expect(
          (
            await call('POST', '/models', {
              name: 'offices',
              fields: [
                { name: 'city', type: 'string' },
                { name: 'company', type: 'relation', target: 'companies', onDelete: 'restrict' },
              ],
            })
          ).status,
        ).toBe(201);

        const acme = (await call('POST', '/data/companies', { name: 'Acme' })).json.data.id;
        const globex = (await call('POST', '/data/companies', { name: 'Globex' })).json.data.id;
        const ada = (await call('POST', '/data/employees', { email: 'ada@acme.io', age: 36, company: acme })).json.data.id;
        await call('POST', '/data/employees', { email: 'bob@acme.io', age: 22, company: acme });
        await call('POST', '/data/employees', { email: 'cy@globex.io', age: 41, company: globex });
        await call('POST', '/data/profiles', { bio: 'Counts', employee: ada });
        await call('POST', '/data/offices', { city: 'Springfield', company: globex });

        const acmeStaff = await call('GET', '/data/employees?filter[company.name][eq]=Acme&sort=-age');
        expect(acmeStaff.json.data.map((e: { email: string }) => e.email)).toEqual(['ada@acme.io', 'bob@acme.io']);
        const page1 = await call('GET', '/data/employees?sort=age&limit=2');
        const page2 = await call('GET', `/data/employees?sort=age&limit=2&cursor=${page1.json.meta.nextCursor}`);
        expect([...page1.json.data, ...page2.json.data].map((e: { age: number }) => e.age)).toEqual([22, 36, 41]);
        const expanded = await call('GET', `/data/employees/${ada}?expand=company,profiles`);
        expect(expanded.json.data).toMatchObject({ company: { name: 'Acme' }, profiles: { bio: 'Counts' } });
        const withStaff = await call('GET', '/data/companies?expand=employees&sort=name');
        expect(withStaff.json.data[0].employees).toHaveLength(2);

        expect((await call('DELETE', `/data/companies/${acme}`)).status).toBe(204);
        expect((await call('GET', '/data/employees?count=exact')).json.meta.total).toBe(1);
        const restricted = await call('DELETE', `/data/companies/${globex}`);
        expect(restricted.status).toBe(409);
        expect(restricted.json.error.details[0].relation).toBe('offices.company');

        expect((await call('PATCH', '/models/employees', { updateFields: [{ name: 'age', type: 'number' }] })).status).toBe(200);
        const unsafe = await call('PATCH', '/models/employees', { updateFields: [{ name: 'email', type: 'integer', required: true }] });
        expect(unsafe.status).toBe(422);
        expect(unsafe.json.error.details.field).toBe('email');

        const items = Array.from({ length: 10_000 }, (_, i) => ({ email: `bulk${i}@x.io`, age: i % 60, company: globex }));
        const bulk = await call('POST', '/data/employees/bulk', { op: 'create', items });
        expect(bulk.status).toBe(200);
        expect(bulk.json.data.count).toBe(10_000);
        expect((await call('GET', '/data/employees?limit=1&count=exact')).json.meta.total).toBe(10_001);

        // The CLI sends a file in batches with a progress bar, and reports rejected rows by line.
        const csvFile = path.join(env.INFINITY_DATA_DIR!, 'people.csv');
        const lines = ['email,age', ...Array.from({ length: 2500 }, (_, i) => (i === 1234 ? 'broken,not-a-number' : `cli${i}@x.io,${i % 70}`))];
        writeFileSync(csvFile, `${lines.join('\n')}\n`);
        const imported = runCli(['import', csvFile, '--model', 'employees', '--skip-invalid', '--batch', '1000', '--url', s.url, '--api-key', key], {});
        expect(imported.out).toContain('importing employees');
        expect(imported.out).toContain('Imported 2499 new and 0 updated of 2500 rows; 1 rejected.');
        expect(imported.out).toContain('row 1236: age');
        expect(imported.status).toBe(1);
        expect((await call('GET', '/data/employees?limit=1&count=exact')).json.meta.total).toBe(10_001 + 2499);
      } finally {
        expect(await s.stop()).toBe(0);
      }
    });
  });
}
