/**
 * Fuzz: thousands of generated hostile requests against the records and models APIs. Whatever
 * arrives — SQL metacharacters in names and values, deep nesting, long lists, unknown operators,
 * wrong types — the answer is a 2xx or a 4xx in the error format, never a 500, and (for the
 * read and refused write requests) nothing changes.
 */
import fc from 'fast-check';
import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

const NASTY = [
  "'",
  '"',
  ';',
  '--',
  '/*',
  '*/',
  '\\',
  '%',
  '_',
  '(',
  ')',
  '[',
  ']',
  '{',
  '}',
  ',',
  '.',
  '=',
  '$1',
  '::',
  'drop table users',
  "' or 1=1 --",
  '\u0000',
  '\u202e',
  '𝕏',
  ' ',
  'null',
  'true',
  '1e309',
  '-0',
  'NaN',
];
const fragment = fc.oneof(
  fc.constantFrom(...NASTY),
  fc.string({ maxLength: 8 }),
  fc.constantFrom('name', 'age', 'company', 'company.name', 'employees.age', 'tags', 'meta', 'or', 'and', '0', '1'),
);
const word = fc.array(fragment, { minLength: 1, maxLength: 4 }).map((xs) => xs.join(''));
const op = fc.oneof(fc.constantFrom('eq', 'ne', 'gt', 'gte', 'lt', 'lte', 'in', 'nin', 'contains', 'icontains', 'startsWith', 'isNull'), word);
const param = fc.oneof(
  fc.tuple(word, op, word).map(([f, o, v]) => `filter[${f}][${o}]=${encodeURIComponent(v)}`),
  fc.tuple(fc.constantFrom('or', 'and'), fc.nat(3), word, op, word).map(([g, i, f, o, v]) => `filter[${g}][${i}][${f}][${o}]=${encodeURIComponent(v)}`),
  fc
    .tuple(fc.constantFrom('sort', 'fields', 'expand', 'limit', 'offset', 'cursor', 'q', 'count', 'filter'), word)
    .map(([k, v]) => `${k}=${encodeURIComponent(v)}`),
  fc.jsonValue({ maxDepth: 8 }).map((j) => `filter=${encodeURIComponent(JSON.stringify(j))}`),
  word.map((k) => `${encodeURIComponent(k)}=1`),
);
const hostileBody = fc.oneof(fc.jsonValue({ maxDepth: 6 }), fc.dictionary(word, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }));

describeEachDb('fuzz: hostile requests never break the API', (h) => {
  let key: string;
  let before: string;
  const snapshot = async () =>
    (await h().db.pool.query('select (select count(*) from users)::text || (select count(*) from models)::text as s')).rows[0]!.s as string;

  it('sets up models with relations', async () => {
    const u = await signUp(h());
    key = (await createApiKey(h(), u.token, 'editor')).key;
    const req = (url: string, body: unknown) => h().request({ method: 'POST', url, apiKey: key, body });
    await req('/api/v1/models', { name: 'companies', fields: [{ name: 'name', type: 'string', unique: true }] });
    await req('/api/v1/models', {
      name: 'employees',
      fields: [
        { name: 'name', type: 'string' },
        { name: 'age', type: 'integer' },
        { name: 'tags', type: 'array', items: 'string' },
        { name: 'meta', type: 'json' },
        { name: 'company', type: 'relation', target: 'companies' },
      ],
    });
    before = await snapshot();
  });

  it('2,000 generated list queries answer 200 or a 4xx in the error format', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(param, { minLength: 1, maxLength: 6 }), async (params) => {
        const r = await h().request({ method: 'GET', url: `/api/v1/data/employees?${params.join('&')}`, apiKey: key });
        expect(r.statusCode, `${params.join('&')} → ${r.body.slice(0, 200)}`).toBeLessThan(500);
        if (r.statusCode >= 400) expect(typeof r.json().error.code).toBe('string');
      }),
      { numRuns: 2000, seed: 4242 },
    );
  });

  it('1,000 generated record and model bodies never cause a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/api/v1/data/employees', '/api/v1/data/employees/bulk', '/api/v1/models', '/api/v1/data/companies/import'),
        hostileBody,
        async (url, body) => {
          const r = await h().request({ method: 'POST', url, apiKey: key, body });
          expect(r.statusCode, `${url} ${JSON.stringify(body).slice(0, 200)} → ${r.body.slice(0, 200)}`).toBeLessThan(500);
        },
      ),
      { numRuns: 1000, seed: 2424 },
    );
    expect(await snapshot()).toBe(before);
  });
});
