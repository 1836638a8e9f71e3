import { expect, it } from 'vitest';
import { describeEachDb } from '../testing/harness.js';

describeEachDb('database platform', (h) => {
  it('regression: a failed parameterized query leaves the connection usable (PGlite node-postgres adapter bug)', async () => {
    const pool = h().db.pool;
    await pool.query('create table reg_adapter (id int primary key, n int check (n > 0))');
    await pool.query('insert into reg_adapter values ($1, $2)', [1, 1]);
    await expect(pool.query('insert into reg_adapter values ($1, $2)', [1, 1])).rejects.toMatchObject({ code: '23505' });
    await expect(pool.query('insert into reg_adapter values ($1, $2)', [2, -1])).rejects.toMatchObject({ code: '23514' });
    await expect(pool.query('insert into reg_adapter values ($1, $2)', [1, 5])).rejects.toMatchObject({ code: '23505' });
    expect((await pool.query('select count(*)::int as n from reg_adapter where id = $1', [1])).rows[0]!.n).toBe(1);
    await pool.query('drop table reg_adapter');
  });

  it('returns the same JavaScript values on both databases', async () => {
    const r = await h().db.pool.query(
      `select 9007199254740991::bigint as big, '2024-02-29'::date as d, '2024-02-29T10:00:00Z'::timestamptz as ts,
              '{"a":[1]}'::jsonb as j, array[1,2]::bigint[] as ia, array['x']::text[] as ta, '\\x0102'::bytea as b, 1.5::float8 as f`,
    );
    const row = r.rows[0]!;
    expect(row.big).toBe(9007199254740991);
    expect(row.d).toBe('2024-02-29');
    expect((row.ts as Date).toISOString()).toBe('2024-02-29T10:00:00.000Z');
    expect(row.j).toEqual({ a: [1] });
    expect(row.ia).toEqual([1, 2]);
    expect(row.ta).toEqual(['x']);
    expect(Buffer.isBuffer(row.b)).toBe(true);
    expect([...(row.b as Buffer)]).toEqual([1, 2]);
    expect(row.f).toBe(1.5);
  });

  it('serializes concurrent transactions on the single embedded connection without interleaving', async () => {
    const { kysely } = h().db;
    const { sql } = await import('kysely');
    await sql`create table reg_tx (n int)`.execute(kysely);
    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        kysely
          .transaction()
          .execute(async (trx) => {
            await sql`insert into reg_tx values (${i})`.execute(trx);
            if (i % 2) throw new Error('roll back');
          })
          .catch(() => undefined),
      ),
    );
    const r = await h().db.pool.query('select count(*)::int as n from reg_tx');
    expect(r.rows[0]!.n).toBe(5);
  });

  it('runs a query with settings that lapse after it: plain values written into one statement, other parameters in a transaction', async () => {
    const { kysely } = h().db;
    const { sql } = await import('kysely');
    const { inlined, withLocalSettings } = await import('./local-settings.js');
    const shown = sql<{ w: string; s: string }>`select current_setting('work_mem') as w, current_setting('enable_seqscan') as s`;
    const before = (await shown.execute(kysely)).rows[0]!;
    // Parameterless: sent as `SET LOCAL …; SELECT …`, and both databases hand back the select's rows.
    expect(await withLocalSettings(kysely, { work_mem: '7MB', enable_seqscan: 'off' }, shown)).toEqual([{ w: '7MB', s: 'off' }]);
    const withParam = sql<{ w: string; n: number }>`select current_setting('work_mem') as w, ${5}::int as n`;
    expect(await withLocalSettings(kysely, { work_mem: '9MB' }, withParam)).toEqual([{ w: '9MB', n: 5 }]);
    expect((await shown.execute(kysely)).rows[0]).toEqual(before);
    // Plain values written into the text read back exactly as parameters would: quotes,
    // backslashes, an injection attempt, `$1` inside a value, null, booleans, numbers.
    await sql`create table reg_settings (id int)`.execute(kysely);
    const tricky = ["it's", 'back\\slash \\', "'; drop table reg_settings; --", 'costs $1 or $2', "E'x'", ''];
    for (const value of tricky) {
      const q = sql<{
        w: string;
        v: string;
        n: null;
        b: boolean;
        f: number;
      }>`select current_setting('work_mem') as w, ${value}::text as v, ${null}::text as n, ${true}::boolean as b, ${-2.5e-7}::float8 as f`;
      expect(inlined(q.compile(kysely))).toBeDefined();
      expect(await withLocalSettings(kysely, { work_mem: '8MB' }, q)).toEqual([{ w: '8MB', v: value, n: null, b: true, f: -2.5e-7 }]);
    }
    expect((await sql<{ n: number }>`select count(*)::int as n from reg_settings`.execute(kysely)).rows[0]!.n).toBe(0);
    // An array stays a parameter (transaction path); so do all of them when the caller's own text
    // holds a `$` and digits, which would otherwise be taken for a placeholder.
    const array = sql<{ w: string; a: number[] }>`select current_setting('work_mem') as w, ${[1, 2]}::int[] as a`;
    const dollar = sql<{ w: string; lit: string; n: number }>`select current_setting('work_mem') as w, '$1' as lit, ${7}::int as n`;
    expect([inlined(array.compile(kysely)), inlined(dollar.compile(kysely))]).toEqual([undefined, undefined]);
    expect(await withLocalSettings(kysely, { work_mem: '6MB' }, array)).toEqual([{ w: '6MB', a: [1, 2] }]);
    expect(await withLocalSettings(kysely, { work_mem: '6MB' }, dollar)).toEqual([{ w: '6MB', lit: '$1', n: 7 }]);
    expect((await shown.execute(kysely)).rows[0]).toEqual(before);
    // Settings are inlined, so only plain names and values pass.
    await expect(withLocalSettings(kysely, { "work_mem = '1MB'; drop table x; --": '1' }, shown)).rejects.toThrow(/refusing/);
    await expect(withLocalSettings(kysely, { work_mem: "1MB'; drop table x; --" }, shown)).rejects.toThrow(/refusing/);
  });
});
