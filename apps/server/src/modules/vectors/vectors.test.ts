import { afterEach, describe, expect, it, vi } from 'vitest';
import { sql } from 'kysely';
import { ident, withLocalSettings } from '../../platform/db/index.js';
import { createApiKey, signUp } from '../../platform/testing/actors.js';
import { describeEachDb } from '../../platform/testing/harness.js';
import { ModelCache } from '../schema/index.js';
import { parseFilter, whereFor } from '../records/index.js';
import { MatchCounts, planRows, searchBodySchema, searchStatement, widthKeyOf } from './vectors.service.js';

describe('match counts remembered for the search strategy', () => {
  afterEach(() => vi.useRealTimers());

  it('counts a filter once for ten seconds, then again; keeps at most 1,000 filters, dropping the oldest', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T10:00:00Z') });
    const counts = new MatchCounts();
    const count = vi.fn(async () => 2500);
    expect(await counts.get('org.docs {"cat":{"eq":"b"}}', count)).toBe(2500);
    expect(await counts.get('org.docs {"cat":{"eq":"b"}}', count)).toBe(2500);
    expect(count).toHaveBeenCalledTimes(1);
    // Another filter or model is its own entry.
    expect(await counts.get('org.docs {"cat":{"eq":"c"}}', async () => 7)).toBe(7);
    vi.advanceTimersByTime(10_001);
    expect(await counts.get('org.docs {"cat":{"eq":"b"}}', count)).toBe(2500);
    expect(count).toHaveBeenCalledTimes(2);

    const fresh = new MatchCounts();
    for (let i = 0; i < 1000; i++) await fresh.get(`m ${i}`, async () => i);
    await fresh.get('m 1000', async () => 1000);
    const recount = vi.fn(async () => -1);
    expect(await fresh.get('m 0', recount)).toBe(-1);
    expect(await fresh.get('m 999', recount)).toBe(999);
    expect(recount).toHaveBeenCalledTimes(1);
  });
});

describe('search widths are kept per model and embedding settings', () => {
  it('names the same settings the same however their keys are ordered (jsonb reorders them), and other settings apart', () => {
    const model = (embedding: Record<string, unknown>) => ({ id: 'm1', embedding }) as unknown as Parameters<typeof widthKeyOf>[0];
    const asPatched = model({ enabled: true, provider: 'local', sourceFields: ['title', 'body'], dimensions: 256 });
    const asStored = model({ dimensions: 256, enabled: true, provider: 'local', sourceFields: ['title', 'body'] });
    expect(widthKeyOf(asPatched)).toBe(widthKeyOf(asStored));
    expect(widthKeyOf(model({ enabled: true, provider: 'local', sourceFields: ['title', 'body'], dimensions: 512 }))).not.toBe(widthKeyOf(asStored));
    expect(widthKeyOf(model({ enabled: true, provider: 'local', sourceFields: ['body'], dimensions: 256 }))).not.toBe(widthKeyOf(asStored));
  });
});

describeEachDb('search statements', (h) => {
  it('walk the HNSW index for vector and hybrid searches, with and without a filter, sending the query vector once; the exact variant scans', async () => {
    const owner = await signUp(h());
    const key = (await createApiKey(h(), owner.token, 'admin')).key;
    const req = (method: string, url: string, body?: unknown) => h().request({ method, url, apiKey: key, body });
    expect(
      (
        await req('POST', '/api/v1/models', {
          name: 'cards',
          fields: [
            { name: 'body', type: 'text' },
            { name: 'cat', type: 'string' },
          ],
        })
      ).statusCode,
    ).toBe(201);
    const items = Array.from({ length: 300 }, (_, i) => ({ body: `card ${i} ${['red', 'green', 'blue'][i % 3]}`, cat: i % 2 ? 'odd' : 'even' }));
    expect((await req('POST', '/api/v1/data/cards/bulk', { op: 'create', items })).statusCode).toBe(200);
    expect(
      (await req('PATCH', '/api/v1/models/cards', { embedding: { enabled: true, provider: 'local', sourceFields: ['body'], dimensions: 16 } })).statusCode,
    ).toBe(200);
    await h().built.embeddings.drain();
    const models = await new ModelCache(h().db.kysely as never).get(owner.orgId);
    const model = models.byName.get('cards')!;
    const vector = Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 0.5 : -0.25));
    const statement = (body: Record<string, unknown>, exact: boolean) => {
      const b = searchBodySchema.parse(body);
      const where = whereFor(model, models, { filter: parseFilter(b.filter), q: undefined });
      return searchStatement({ model, models, body: b, where, vector, pgvector: h().db.info.vector, iterativeScan: h().db.info.vector }, exact);
    };
    const plan = async (body: Record<string, unknown>, exact: boolean) => {
      const { settings, query } = statement(body, exact);
      return (await withLocalSettings(h().db.kysely, settings, sql<{ 'QUERY PLAN': string }>`explain ${query}`)).map((r) => r['QUERY PLAN']).join('\n');
    };
    const literal = `${vector.join(',')}`;
    for (const body of [{ query: 'red' }, { query: 'red', filter: { cat: { eq: 'odd' } } }, { query: 'red card', mode: 'hybrid' }]) {
      const { query } = statement(body, false);
      // The vector literal is written once: the order is by the distance's alias.
      expect(query.compile(h().db.kysely).sql.split(literal)).toHaveLength(2);
      if (!h().db.info.vector) continue;
      expect(await plan(body, false)).toMatch(/Index Scan using cards__embedding_idx/);
      expect(await plan(body, true)).not.toMatch(/cards__embedding_idx/);
    }
    // The planner's estimate the strategy reads (a text plan's top line).
    const table = ident(models.schema, 'cards');
    await sql`analyze ${table}`.execute(h().db.kysely);
    const line = (await sql<{ 'QUERY PLAN': string }>`explain select 1 from ${table} t where t._embedding is not null`.execute(h().db.kysely)).rows[0]![
      'QUERY PLAN'
    ];
    expect(planRows(line)).toBe(300);
    expect(planRows('Result  (cost=0.00..0.01 width=4)')).toBe(0);
    // And the search answers as the exact scan does: the top 5 by cosine similarity.
    const exact = (await withLocalSettings(h().db.kysely, {}, statement({ query: 'red', k: 5 }, true).query)).map((r) => r.id);
    const res = await req('POST', '/api/v1/data/cards/search', { vector, k: 5 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<{ data: { id: string }[] }>().data.map((r) => r.id)).toEqual(exact);
  });
});
