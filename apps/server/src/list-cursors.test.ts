/**
 * Keyset cursors of the fixed-order lists: executions, flows, flow versions, audit and logs.
 * Regression: these lists paged only by offset, so a row inserted between two pages shifted the
 * next page (one row seen twice), and there was no meta.nextCursor at all. Each fixture is ONE
 * insert statement of 3,000 rows (one created_at / at for all of them, to the microsecond); pages
 * are 200, smaller than that group; rows are added between pages.
 */
import { expect, it } from 'vitest';
import { signUp, type TestUser } from './platform/testing/actors.js';
import { describeEachDb } from './platform/testing/harness.js';

const N = 3000;
const PAGE = 200;

interface Page {
  data: { id: string | number; version?: number; seq?: number }[];
  meta: { total: number | null; limit: number; offset: number; nextCursor: string | null };
}

describeEachDb('list cursors (executions, flows, versions, audit, logs)', (h) => {
  let u: TestUser;
  let flowId: string;
  const get = (url: string) => h().request({ method: 'GET', url, token: u.token });
  const sql = (text: string, params: unknown[] = []) => h().db.pool.query(text, params);

  /** Every row of a list by cursor; `between` runs after the first page (inserts while paging). */
  async function walk(base: string, keyOf: (r: Page['data'][number]) => string, between?: () => Promise<void>): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages <= N / PAGE + 3; pages++) {
      const r = await get(`${base}${base.includes('?') ? '&' : '?'}limit=${PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.statusCode, r.body.slice(0, 300)).toBe(200);
      const page = r.json<Page>();
      expect(page.meta).toMatchObject({ limit: PAGE, offset: 0 });
      out.push(...page.data.map(keyOf));
      if (pages === 0 && between) await between();
      cursor = page.meta.nextCursor;
      if (!cursor) return out;
    }
    throw new Error(`${base}: the cursor never ended (${out.length} rows read)`);
  }

  const once = (keys: string[], expected: number) => {
    expect(new Set(keys).size, 'a row was repeated').toBe(keys.length);
    expect(keys.length).toBe(expected);
  };

  it('creates the fixtures: 3,000 rows of each list, each in one insert', async () => {
    u = await signUp(h());
    const flow = await h().request({ method: 'POST', url: '/api/v1/flows?template=blank', token: u.token, body: { name: 'paged' } });
    expect(flow.statusCode, flow.body).toBe(201);
    flowId = flow.json().data.id;
    await sql(
      `insert into flows (id, org_id, name, nodes, edges, settings) select gen_random_uuid(), $1, 'bulk ' || g, '[]', '[]', '{}' from generate_series(1, ${N}) g`,
      [u.orgId],
    );
    await sql(
      `insert into executions (id, org_id, flow_id, flow_version, status, trigger) select gen_random_uuid(), $1, $2, 1, 'succeeded', 'manual' from generate_series(1, ${N}) g`,
      [u.orgId, flowId],
    );
    await sql(
      `insert into flow_versions (flow_id, version, org_id, name, nodes, edges, settings) select $1, g, $2, 'v' || g, '[]', '[]', '{}' from generate_series(2, ${N + 1}) g`,
      [flowId, u.orgId],
    );
    await sql('update flows set version = $2 where id = $1', [flowId, N + 1]);
    const head = Number((await sql('select seq from audit_heads where org_id = $1', [u.orgId])).rows[0]!.seq);
    await sql(
      `insert into audit_log (id, org_id, seq, at, actor_type, action, prev_hash, hash) select gen_random_uuid(), $1, $2::bigint + g, now(), 'system', 'FIXTURE', '', '' from generate_series(1, ${N}) g`,
      [u.orgId, head],
    );
    await sql('update audit_heads set seq = $2 where org_id = $1', [u.orgId, head + N]);
    await sql(
      `insert into request_log (at, request_id, method, route, status, duration_ms, bytes, org_id) select now(), 'fixture-' || g, 'GET', '/fixture', 200, 1, 1, $1 from generate_series(1, ${N}) g`,
      [u.orgId],
    );
    await sql(
      `insert into app_log (at, level, service, org_id, message) select now(), 'error', 'infinity', $1, 'fixture line ' || g from generate_series(1, ${N}) g`,
      [u.orgId],
    );
    const stamps = await sql('select count(distinct created_at)::int as n from executions where org_id = $1', [u.orgId]);
    expect(stamps.rows[0]).toEqual({ n: 1 });
  });

  it('executions: every row exactly once by cursor, newest first, while executions are added', async () => {
    const more = () =>
      sql(
        `insert into executions (id, org_id, flow_id, flow_version, status, trigger) select gen_random_uuid(), $1, $2, 1, 'succeeded', 'manual' from generate_series(1, 50)`,
        [u.orgId, flowId],
      ).then(() => undefined);
    const first = (await get(`/api/v1/executions?flowId=${flowId}&limit=1`)).json<Page>();
    const ids = await walk(`/api/v1/executions?flowId=${flowId}`, (r) => String(r.id), more);
    once(ids, first.meta.total!);
    const succeeded = (await get('/api/v1/executions?status=succeeded&limit=1')).json<Page>().meta.total!;
    once(await walk('/api/v1/executions?status=succeeded', (r) => String(r.id)), succeeded);
    expect(succeeded).toBe(N + 50);
  });

  it('flows: every row exactly once by cursor while flows are added', async () => {
    const total = (await get('/api/v1/flows?limit=1')).json<Page>().meta.total!;
    expect(total).toBe(N + 1);
    const more = () =>
      sql(`insert into flows (id, org_id, name, nodes, edges, settings) select gen_random_uuid(), $1, 'late', '[]', '[]', '{}' from generate_series(1, 20)`, [
        u.orgId,
      ]).then(() => undefined);
    once(await walk('/api/v1/flows', (r) => String(r.id), more), total);
  });

  it('flow versions: every version exactly once by cursor, newest first', async () => {
    const versions = await walk(`/api/v1/flows/${flowId}/versions`, (r) => String(r.version));
    once(versions, N + 1);
    expect(versions[0]).toBe(String(N + 1));
    expect(versions.at(-1)).toBe('1');
  });

  it('audit: every entry exactly once by cursor while entries are appended', async () => {
    const total = (await get('/api/v1/audit?action=FIXTURE&limit=1')).json<Page>().meta.total!;
    expect(total).toBe(N);
    // A real audited write between pages: an offset would now repeat a row.
    const more = async () => {
      const r = await h().request({ method: 'POST', url: '/api/v1/flows?template=blank', token: u.token, body: { name: 'audited' } });
      expect(r.statusCode).toBe(201);
    };
    const all = (await get('/api/v1/audit?limit=1')).json<Page>().meta.total!;
    once(await walk('/api/v1/audit', (r) => String(r.seq), more), all);
    once(await walk('/api/v1/audit?action=FIXTURE', (r) => String(r.seq)), N);
  });

  it('logs: every request line and app line exactly once by cursor while lines are added', async () => {
    const more = () =>
      sql(
        `insert into request_log (at, request_id, method, route, status, duration_ms, bytes, org_id) select now(), 'late', 'GET', '/fixture', 200, 1, 1, $1 from generate_series(1, 30)`,
        [u.orgId],
      ).then(() => undefined);
    once(await walk('/api/v1/logs?route=/fixture', (r) => String(r.id), more), N);
    once(await walk('/api/v1/logs?kind=app&q=fixture%20line', (r) => String(r.id)), N);
  });

  it('offset still pages (compatibility), and every page also offers its nextCursor', async () => {
    for (const url of [
      '/api/v1/executions',
      '/api/v1/flows',
      `/api/v1/flows/${flowId}/versions`,
      '/api/v1/audit',
      '/api/v1/logs?route=/fixture',
      '/api/v1/logs?kind=app',
    ]) {
      const r = await get(`${url}${url.includes('?') ? '&' : '?'}limit=5&offset=5`);
      expect(r.statusCode, `${url}: ${r.body.slice(0, 200)}`).toBe(200);
      const p = r.json<Page>();
      expect(p.data.length, url).toBe(5);
      expect(p.meta, url).toMatchObject({ limit: 5, offset: 5, nextCursor: expect.any(String) });
    }
  });

  it('a forged, damaged or foreign cursor is a 400 (never a 500), as is cursor with offset', async () => {
    const forge = (s: string, v: unknown[]) => Buffer.from(JSON.stringify({ s, v })).toString('base64url');
    const flowsCursor = (await get('/api/v1/flows?limit=1')).json<Page>().meta.nextCursor!;
    const cases: [string, string][] = [
      ['/api/v1/executions', forge('executions', ['garbage', 'garbage'])],
      ['/api/v1/executions', forge('executions', ['2024-02-30T00:00:00Z', '0190a9a0-0000-7000-8000-000000000000'])],
      ['/api/v1/executions', forge('executions', [1, 2])],
      ['/api/v1/executions', flowsCursor],
      ['/api/v1/flows', forge('flows', ['2024-01-01T00:00:00Z', 'nope'])],
      ['/api/v1/flows', 'bogus'],
      [`/api/v1/flows/${flowId}/versions`, forge('flow-versions', ['1.5'])],
      [`/api/v1/flows/${flowId}/versions`, forge('flow-versions', ['99999999999999999999'])],
      ['/api/v1/audit', forge('audit', ['garbage'])],
      ['/api/v1/audit', forge('audit', [null])],
      ['/api/v1/logs', forge('logs:request', ['2024-01-01T00:00:00Z', 'x'])],
      ['/api/v1/logs?kind=app', forge('logs:request', ['2024-01-01T00:00:00Z', '1'])],
    ];
    for (const [url, cursor] of cases) {
      const r = await get(`${url}${url.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`);
      expect(r.statusCode, `${url} ${cursor}: ${r.body.slice(0, 200)}`).toBe(400);
      expect(r.json().error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'cursor' }] });
    }
    const both = await get(`/api/v1/flows?offset=5&cursor=${encodeURIComponent(flowsCursor)}`);
    expect(both.statusCode).toBe(400);
  });
});
