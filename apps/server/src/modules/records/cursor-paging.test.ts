import { parse } from 'csv-parse/sync';
import { expect, it } from 'vitest';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';

/**
 * Regression suite for cursor paging over rows that share their sort values. Every row comes from
 * ONE bulk insert, so they share created_at to the microsecond; pages (200) are smaller than the
 * group. The bug: cursors carried created_at in milliseconds, so on PostgreSQL (microseconds) the
 * default sort served the first page forever, -createdAt stopped early, and exports never ended.
 */
const N = 3000;
const PAGE = 200;
const fields = [
  { name: 'name', type: 'string', required: true },
  { name: 'price', type: 'number' },
  { name: 'note', type: 'string' },
  { name: 'qty', type: 'integer' },
  { name: 'active', type: 'boolean' },
  { name: 'day', type: 'date' },
  { name: 'label', type: 'string' },
];
const LABELS = ["=cmd|' /C calc'!A0", '+1+1', '-2', '@SUM(A1:A2)', '\tx', '\rx', "'=already", 'plain'];

type Row = Record<string, unknown> & { id: string };

function item(i: number) {
  return {
    name: `n${String(i % 97).padStart(2, '0')}`,
    // Thirds are not exact in binary: the cursor must carry every digit. Many NULLs, many ties.
    price: i % 5 === 0 ? null : (i % 41) / 3,
    note: i % 3 === 0 ? `note ${i % 7}` : null,
    qty: (i % 13) - 6,
    active: i % 2 === 0,
    day: i % 4 === 0 ? null : `2024-0${(i % 9) + 1}-1${i % 10}`,
    label: i < LABELS.length ? LABELS[i] : `label ${i}`,
  };
}

/** Postgres order for one key: nulls last ascending, first descending. */
function compareBy(sort: string): (a: Row, b: Row) => number {
  const keys = sort ? sort.split(',') : ['createdAt'];
  if (!keys.some((k) => k.replace('-', '') === 'id')) keys.push(`${keys.at(-1)!.startsWith('-') ? '-' : ''}id`);
  return (a, b) => {
    for (const key of keys) {
      const desc = key.startsWith('-');
      const name = desc ? key.slice(1) : key;
      const x = a[name];
      const y = b[name];
      let c: number;
      if (x === y) c = 0;
      else if (x === null || x === undefined) c = 1;
      else if (y === null || y === undefined) c = -1;
      else c = (x as string | number) < (y as string | number) ? -1 : 1;
      if (c) return desc ? -c : c;
    }
    return 0;
  };
}

describeEachDb('cursor paging over one bulk insert', (h) => {
  let key: string;
  const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, ...(body === undefined ? {} : { body }) });

  async function walk(query: string): Promise<Row[]> {
    const out: Row[] = [];
    let cursor: string | null = null;
    // A page count bound, so that a cursor that loops fails the test instead of hanging it.
    for (let pages = 0; pages <= N / PAGE + 2; pages++) {
      const r = await req('GET', `/api/v1/data/items?limit=${PAGE}${query ? `&${query}` : ''}${cursor ? `&cursor=${cursor}` : ''}`);
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      const page = r.json<{ data: Row[]; meta: { nextCursor: string | null; limit: number; offset: number; total: number | null } }>();
      expect(page.meta).toEqual({ total: null, limit: PAGE, offset: 0, nextCursor: page.meta.nextCursor });
      out.push(...page.data);
      cursor = page.meta.nextCursor;
      if (!cursor) return out;
    }
    throw new Error(`${query}: the cursor never ended (${out.length} rows read)`);
  }

  const exactlyOnce = (ids: string[], all: string[]) => {
    expect(ids.length).toBe(N);
    expect(new Set(ids).size).toBe(N);
    expect([...ids].sort()).toEqual(all);
  };
  let allIds: string[];

  it('creates the fixture: 3,000 rows in one bulk insert, one created_at', async () => {
    const u = await signUp(h());
    key = (await createApiKey(h(), u.token, 'editor')).key;
    expect((await req('POST', '/api/v1/models', { name: 'items', fields })).statusCode).toBe(201);
    const r = await req('POST', '/api/v1/data/items/bulk', { op: 'create', items: Array.from({ length: N }, (_, i) => item(i)) });
    expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
    // One statement: every row has the same created_at, to the microsecond.
    const org = await h().db.pool.query('select schema_name from organizations where id = $1', [u.orgId]);
    const schema = (org.rows[0] as { schema_name: string }).schema_name;
    const stamps = await h().db.pool.query(`select count(distinct created_at)::int as n, count(*)::int as rows from "${schema}".items`);
    expect(stamps.rows[0]).toEqual({ n: 1, rows: N });
    const all = await walk('sort=id&fields=name');
    allIds = all.map((x) => x.id).sort();
    expect(new Set(all.map((x) => x.id)).size).toBe(N);
  });

  const sorts = ['', 'createdAt', '-createdAt', 'note', '-note', '-day', '-price,name', 'price,-name', 'active,-createdAt'];
  for (const sort of sorts) {
    it(`walks every row exactly once, in order: ${sort || 'default sort'}, with and without fields=`, async () => {
      const rows = await walk(sort ? `sort=${sort}` : '');
      exactlyOnce(
        rows.map((x) => x.id),
        allIds,
      );
      const cmp = compareBy(sort);
      for (let i = 1; i < rows.length; i++) expect(cmp(rows[i - 1]!, rows[i]!), `${sort} at ${i}`).toBeLessThan(0);
      const slim = await walk(`${sort ? `sort=${sort}&` : ''}fields=name`);
      expect(slim.map((x) => x.id)).toEqual(rows.map((x) => x.id));
      expect(Object.keys(slim[0]!).sort()).toEqual(['id', 'name']);
    });
  }

  for (const format of ['json', 'csv', 'xml'] as const) {
    for (const query of ['', 'sort=-createdAt&fields=name,price', 'sort=-price,name&fields=name', 'sort=-note']) {
      it(`exports every row exactly once as ${format} (${query || 'default sort'})`, async () => {
        const r = await req('GET', `/api/v1/data/items/export?format=${format}${query ? `&${query}` : ''}`);
        expect(r.statusCode).toBe(200);
        let ids: string[];
        if (format === 'json') ids = (JSON.parse(r.body) as Row[]).map((x) => x.id);
        else if (format === 'csv') ids = parse<Record<string, string>>(r.body, { columns: true, bom: true }).map((x) => x.id!);
        else ids = [...r.body.matchAll(/<id>([^<]+)<\/id>/g)].map((m) => m[1]!);
        exactlyOnce(ids, allIds);
      });
    }
  }

  it('CSV export escapes formula-leading cells (CSV injection); numbers stay numbers', async () => {
    const all = await req('GET', '/api/v1/data/items/export?format=csv&sort=id&fields=label,qty');
    const rows = parse<Record<string, string>>(all.body, { columns: true, bom: true });
    const labels = new Set(rows.map((x) => x.label));
    for (const escaped of ["'=cmd|' /C calc'!A0", "'+1+1", "'-2", "'@SUM(A1:A2)", "'\tx", "'\rx", "''=already", 'plain', 'label 9'])
      expect(labels, escaped).toContain(escaped);
    expect(labels).not.toContain("=cmd|' /C calc'!A0");
    // Negative integers are numbers, not text: no quote.
    expect(rows.some((x) => x.qty === '-6')).toBe(true);
    expect(rows.some((x) => x.qty?.startsWith("'"))).toBe(false);
  });

  it('a forged cursor, or one whose value does not fit its sort column, is a 400 QUERY_INVALID (never a 500)', async () => {
    const id = allIds[0]!;
    const forge = (s: string, v: unknown[]) => Buffer.from(JSON.stringify({ s, v })).toString('base64');
    const cases: [string, string, unknown[]][] = [
      ['', 'createdAt,id', ['garbage', 'garbage']],
      ['', 'createdAt,id', ['2024-02-30T00:00:00.000Z', id]],
      ['', 'createdAt,id', ['2024-01-01T25:00:00.000Z', id]],
      ['', 'createdAt,id', [1700000000000, id]],
      ['', 'createdAt,id', ['2024-01-01T00:00:00.000Z', 'not-a-uuid']],
      ['', 'createdAt,id', ['2024-01-01T00:00:00.000Z', null]],
      ['sort=price', 'price,id', ['abc', id]],
      ['sort=price', 'price,id', [5, id]],
      ['sort=price', 'price,id', ['1e400', id]],
      ['sort=price', 'price,id', ['1e-400', id]],
      ['sort=qty', 'qty,id', ['1.5', id]],
      ['sort=qty', 'qty,id', ['99999999999999999999', id]],
      ['sort=active', 'active,id', ['maybe', id]],
      ['sort=day', 'day,id', ['2024-13-01', id]],
      ['sort=-note', '-note,-id', [{ a: 1 }, id]],
      ['sort=-note', '-note,-id', [['x'], id]],
      ['sort=-note', '-note,-id', ['a\u0000b', id]],
      ['sort=id', 'id', ['garbage']],
      ['sort=id', 'id', []],
    ];
    for (const [query, s, v] of cases) {
      const r = await req('GET', `/api/v1/data/items?${query ? `${query}&` : ''}cursor=${encodeURIComponent(forge(s, v))}`);
      expect(r.statusCode, `${query} ${JSON.stringify(v)} → ${r.body.slice(0, 200)}`).toBe(400);
      expect(r.json().error.code).toBe('QUERY_INVALID');
      const x = await req('GET', `/api/v1/data/items/export?format=json&${query ? `${query}&` : ''}cursor=${encodeURIComponent(forge(s, v))}`);
      expect(x.statusCode, `export ${query} ${JSON.stringify(v)}`).toBe(400);
    }
    for (const raw of ['bogus', '%%%', Buffer.from('[1,2]').toString('base64'), Buffer.from('null').toString('base64')]) {
      const r = await req('GET', `/api/v1/data/items?cursor=${encodeURIComponent(raw)}`);
      expect(r.statusCode, raw).toBe(400);
      expect(r.json().error.code).toBe('QUERY_INVALID');
    }
  });
});
