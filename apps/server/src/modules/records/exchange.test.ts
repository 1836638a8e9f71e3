import { parse } from 'csv-parse/sync';
import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

const fields = [
  { name: 'sku', type: 'string', required: true, unique: true },
  { name: 'title', type: 'string' },
  { name: 'qty', type: 'integer', min: 0 },
  { name: 'price', type: 'number' },
  { name: 'active', type: 'boolean' },
  { name: 'tags', type: 'array', items: 'string' },
  { name: 'meta', type: 'json' },
];

describeEachDb('export and import', (h) => {
  let key: string;
  const req = (method: string, url: string, body?: unknown, headers?: Record<string, string>) =>
    h().request({
      method,
      url,
      apiKey: key,
      ...(typeof body === 'string' ? { payload: body, headers: { 'content-type': 'text/csv', ...headers } } : { body, headers }),
    });

  it('exports 2,500 records as CSV, JSON and XML, honouring the filter', async () => {
    const u = await signUp(h());
    key = (await createApiKey(h(), u.token, 'editor')).key;
    expect((await req('POST', '/api/v1/models', { name: 'products', fields })).statusCode).toBe(201);
    const items = Array.from({ length: 2500 }, (_, i) => ({
      sku: `P${String(i).padStart(5, '0')}`,
      title: i === 7 ? 'Comma, "quote"\nnewline & <tag>' : `Product ${i}`,
      qty: i % 10,
      price: i / 4,
      active: i % 2 === 0,
      tags: ['a', `t${i % 3}`],
      meta: { i },
    }));
    expect((await req('POST', '/api/v1/data/products/bulk', { op: 'create', items })).statusCode).toBe(200);

    const csv = await req('GET', '/api/v1/data/products/export?format=csv&sort=sku');
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.headers['content-disposition']).toBe('attachment; filename="products.csv"');
    const rows = parse<Record<string, string>>(csv.body, { columns: true, bom: true });
    expect(rows).toHaveLength(2500);
    expect(rows[7]).toMatchObject({ sku: 'P00007', title: 'Comma, "quote"\nnewline & <tag>', qty: '7', active: 'false', tags: '["a","t1"]', meta: '{"i":7}' });

    const json = await req('GET', '/api/v1/data/products/export?format=json&filter[qty][eq]=3');
    const list = JSON.parse(json.body) as { qty: number }[];
    expect(list).toHaveLength(250);
    expect(list.every((p) => p.qty === 3)).toBe(true);

    const xml = await req('GET', '/api/v1/data/products/export?format=xml&filter[sku][eq]=P00007');
    expect(xml.headers['content-type']).toContain('application/xml');
    expect(xml.body).toContain('<title>Comma, &quot;quote&quot;\nnewline &amp; &lt;tag&gt;</title>');
    expect(xml.body.trim().endsWith('</records>')).toBe(true);
    expect((await req('GET', '/api/v1/data/products/export?format=pdf')).statusCode).toBe(400);
    const empty = await req('GET', '/api/v1/data/products/export?format=json&filter[qty][gt]=100');
    expect(JSON.parse(empty.body)).toEqual([]);
  });

  it('imports the exported CSV into a new model, every value equal', async () => {
    expect((await req('POST', '/api/v1/models', { name: 'products_copy', fields })).statusCode).toBe(201);
    const csv = (await req('GET', '/api/v1/data/products/export?format=csv&sort=sku')).body;
    const r = await req('POST', '/api/v1/data/products_copy/import', csv);
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    expect(r.json().data).toEqual({ total: 2500, inserted: 2500, updated: 0, rejected: [] });
    const strip = (x: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(x).filter(([k]) => !['id', 'createdAt', 'updatedAt', 'createdBy', 'updatedBy'].includes(k)));
    const a = (await req('GET', '/api/v1/data/products?sort=sku&limit=1000')).json().data.map(strip);
    const b = (await req('GET', '/api/v1/data/products_copy?sort=sku&limit=1000')).json().data.map(strip);
    expect(b).toEqual(a);
  });

  it('reports rejected rows by line; all-or-nothing writes nothing, skip-invalid writes the rest; upsert updates', async () => {
    const csv = 'sku,qty,active\nN1,5,true\nN2,-3,yes\n,2,no\nN4,lots,true\nN5,1,maybe\n';
    const refused = await req('POST', '/api/v1/data/products_copy/import', csv);
    expect(refused.statusCode).toBe(422);
    expect(refused.json().error.details.rejected.map((x: { row: number }) => x.row)).toEqual([3, 4, 5, 6]);
    expect((await req('GET', '/api/v1/data/products_copy?filter[sku][eq]=N1')).json().data).toEqual([]);
    const skipped = await req('POST', '/api/v1/data/products_copy/import?onError=skip-invalid', csv);
    expect(skipped.json().data).toMatchObject({ total: 5, inserted: 1, updated: 0 });
    expect(skipped.json().data.rejected[0]).toMatchObject({ row: 3, errors: [{ field: 'qty' }] });
    const upsert = await req('POST', '/api/v1/data/products_copy/import?mode=upsert&key=sku', [
      { sku: 'N1', qty: 9 },
      { sku: 'N9', qty: 1 },
    ]);
    expect(upsert.json().data).toEqual({ total: 2, inserted: 1, updated: 1, rejected: [] });
    expect((await req('GET', '/api/v1/data/products_copy?filter[sku][eq]=N1')).json().data[0].qty).toBe(9);
    const broken = await req('POST', '/api/v1/data/products_copy/import', 'sku,qty\n"unterminated,1\n');
    expect(broken.statusCode).toBe(400);
    const notArray = await req('POST', '/api/v1/data/products_copy/import', { sku: 'x' });
    expect(notArray.statusCode).toBe(400);
    const bareString = await h().request({
      method: 'POST',
      url: '/api/v1/data/products_copy/import',
      apiKey: key,
      payload: '"sku\nX1"',
      headers: { 'content-type': 'application/json' },
    });
    expect(bareString.statusCode).toBe(400);
    // PostgreSQL stores no U+0000: a file row carrying it is rejected with the reason (a text/csv body is refused whole).
    const b = 'xNULx';
    const file = `--${b}\r\nContent-Disposition: form-data; name="file"; filename="n.csv"\r\nContent-Type: text/csv\r\n\r\nsku,qty\nZ1,1\nZ\u00002,2\n\r\n--${b}--\r\n`;
    const nul = await h().request({
      method: 'POST',
      url: '/api/v1/data/products_copy/import?onError=skip-invalid',
      apiKey: key,
      payload: file,
      headers: { 'content-type': `multipart/form-data; boundary=${b}` },
    });
    expect(nul.statusCode, nul.body).toBe(200);
    expect(nul.json().data).toMatchObject({
      total: 2,
      inserted: 1,
      rejected: [{ row: 3, errors: [{ field: 'sku', message: expect.stringContaining('NUL') }] }],
    });
    expect((await req('POST', '/api/v1/data/products_copy/import', 'sku,qty\nZ\u00003,3\n')).statusCode).toBe(400);
  });
});

describeEachDb('per-organization OpenAPI', (h) => {
  it('adds typed paths and schemas for the caller’s models, and nothing without a credential', async () => {
    const u = await signUp(h());
    const { key } = await createApiKey(h(), u.token, 'viewer');
    await h().request({
      method: 'POST',
      url: '/api/v1/models',
      token: u.token,
      body: {
        name: 'line_items',
        fields: [
          { name: 'sku', type: 'string', required: true, max: 40 },
          { name: 'qty', type: 'integer', min: 1 },
          { name: 'kind', type: 'enum', values: ['a', 'b'] },
        ],
      },
    });
    const doc = (await h().request({ method: 'GET', url: '/api/v1/openapi.json', apiKey: key })).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/data/line_items', '/api/v1/data/line_items/{id}', '/api/v1/models']));
    expect(doc.components.schemas.LineItemsInput).toMatchObject({
      required: ['sku'],
      properties: { sku: { type: 'string', maxLength: 40 }, qty: { type: ['integer', 'null'], minimum: 1 }, kind: { enum: ['a', 'b', null] } },
    });
    expect(doc.paths['/api/v1/data/line_items'].post.operationId).toBe('createLineItems');
    const anonymous = (await h().request({ method: 'GET', url: '/api/v1/openapi.json' })).json();
    expect(Object.keys(anonymous.paths)).not.toContain('/api/v1/data/line_items');
    expect((await h().request({ method: 'GET', url: '/api/v1/openapi.json', apiKey: 'inf_bogus' })).statusCode).toBe(401);
  });
});

describeEachDb(
  'import by multipart upload',
  (h) => {
    it('accepts a CSV or JSON file as a form upload, and refuses one over the limit with 413', async () => {
      const u = await signUp(h());
      const { key } = await createApiKey(h(), u.token, 'editor');
      await h().request({
        method: 'POST',
        url: '/api/v1/models',
        apiKey: key,
        body: {
          name: 'uploads',
          fields: [
            { name: 'sku', type: 'string', required: true },
            { name: 'qty', type: 'integer' },
          ],
        },
      });
      const form = (name: string, type: string, content: string) => {
        const boundary = '----infinity-test-boundary';
        const payload = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n${content}\r\n--${boundary}--\r\n`;
        return { payload, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
      };
      const csv = await h().request({
        method: 'POST',
        url: '/api/v1/data/uploads/import',
        apiKey: key,
        ...form('stock.csv', 'text/csv', 'sku,qty\nA,1\nB,2\n'),
      });
      expect(csv.statusCode, csv.body).toBe(200);
      expect(csv.json().data).toMatchObject({ total: 2, inserted: 2 });
      const json = await h().request({
        method: 'POST',
        url: '/api/v1/data/uploads/import',
        apiKey: key,
        ...form('more.json', 'application/json', '[{"sku":"C","qty":3}]'),
      });
      expect(json.json().data).toMatchObject({ total: 1, inserted: 1 });
      const badJson = await h().request({ method: 'POST', url: '/api/v1/data/uploads/import', apiKey: key, ...form('bad.json', 'application/json', '[{') });
      expect(badJson.statusCode).toBe(400);
      const huge = await h().request({
        method: 'POST',
        url: '/api/v1/data/uploads/import',
        apiKey: key,
        ...form('big.csv', 'text/csv', `sku,qty\n${'X,1\n'.repeat(20_000)}`),
      });
      expect(huge.statusCode).toBe(413);
      expect(huge.json().error.code).toBe('PAYLOAD_TOO_LARGE');
      expect((await h().request({ method: 'GET', url: '/api/v1/data/uploads?count=exact&limit=1', apiKey: key })).json().meta.total).toBe(3);
    });
  },
  { INFINITY_IMPORT_LIMIT: '65536' },
);
