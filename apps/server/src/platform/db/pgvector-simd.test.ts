import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openDatabase } from './database.js';
import { patchInnerProduct, readTarEntry } from './pgvector-simd.js';
import { seededRandom } from '../testing/random.js';

const stockModule = () => {
  const bundle = fileURLToPath(new URL('./vector.tar.gz', import.meta.resolve('@electric-sql/pglite-pgvector')));
  return readTarEntry(gunzipSync(readFileSync(bundle)), 'lib/postgresql/vector.so')!;
};

describe('pgvector with a SIMD inner product (embedded database)', () => {
  it('patches the known build into a valid module, and refuses any other build', () => {
    const so = stockModule();
    const patched = patchInnerProduct(so);
    expect((globalThis as unknown as { WebAssembly: { validate(b: Uint8Array): boolean } }).WebAssembly.validate(patched)).toBe(true);
    expect(patched.length).toBeGreaterThan(so.length);
    // Another build: every `f32.load; f32.mul; local.get` (the function's loop has them) made an
    // f32.add. Not the body the new one was written for, so the patch refuses.
    const tampered = Buffer.from(so);
    const pattern = Buffer.from([0x2a, 0x02, 0x00, 0x94, 0x20]);
    let changed = 0;
    for (let at = tampered.indexOf(pattern); at >= 0; at = tampered.indexOf(pattern, at + 1), changed++) tampered[at + 3] = 0x92;
    expect(changed).toBeGreaterThan(0);
    expect(() => patchInnerProduct(tampered)).toThrow(/not the build/);
  });

  it('computes what the scalar loop computes on every dimension, serves HNSW, and keeps pgvector’s errors', async () => {
    const db = await openDatabase({ pgliteDataDir: 'memory://' });
    try {
      expect(db.info.vectorSimd).toEqual({ on: true });
      const rand = seededRandom(7);
      // Around the 16-float blocks and the 4-float tail, up to 1,536 and beyond.
      for (const dims of [1, 3, 4, 15, 16, 17, 31, 63, 64, 65, 100, 1535, 1536, 2000]) {
        const a = Array.from({ length: dims }, () => rand() * 2 - 1);
        const b = Array.from({ length: dims }, () => rand() * 2 - 1);
        const f = (x: number) => Math.fround(x);
        let expected = 0;
        for (let i = 0; i < dims; i++) expected += f(a[i]!) * f(b[i]!);
        const r = await db.pool.query('select $1::vector <#> $2::vector as d', [JSON.stringify(a), JSON.stringify(b)]);
        expect(Math.abs((r.rows[0]!.d as number) + expected), `dims ${dims}`).toBeLessThan(1e-5 * Math.max(1, Math.sqrt(dims)));
      }
      await expect(db.pool.query(`select '[1,2]'::vector <#> '[1,2,3]'::vector`)).rejects.toThrow('different vector dimensions 2 and 3');
      // Stored values come back in every varlena form the new body must detoast: a short one
      // (1-byte header, under 127 bytes), one compressed in line, and one out of line (TOAST).
      await db.pool.query('create table simd_forms (id int primary key, e vector)');
      const forms = [
        Array.from({ length: 3 }, () => rand()),
        Array.from({ length: 1000 }, (_, i) => (i % 50 === 0 ? 1 : 0)),
        Array.from({ length: 2000 }, () => rand()),
      ];
      // pgvector stores vectors out of line uncompressed (EXTERNAL); EXTENDED lets the mostly-zero one compress.
      await db.pool.query('alter table simd_forms alter column e set storage extended');
      await db.pool.query(`insert into simd_forms select i, v::vector from unnest($1::int[], $2::text[]) as x(i, v)`, [
        forms.map((_, i) => i),
        forms.map((v) => JSON.stringify(v)),
      ]);
      const stored = await db.pool.query(`select id, pg_column_size(e) as size, e <#> e as self from simd_forms order by id`);
      // Short: a 1-byte header, then dim and unused (2 + 2 bytes) and 3 floats.
      expect(stored.rows[0]!.size as number).toBe(1 + 4 + 3 * 4);
      expect(stored.rows[1]!.size as number).toBeLessThan(1000 * 4); // compressed
      expect(stored.rows[2]!.size as number).toBeGreaterThan(2000 * 4); // out of line, uncompressed floats
      forms.forEach((v, i) => {
        const expected = v.reduce((acc, x) => acc + Math.fround(x) * Math.fround(x), 0);
        expect(Math.abs((stored.rows[i]!.self as number) + expected), `form ${i}`).toBeLessThan(1e-4 * Math.max(1, expected));
      });
      // HNSW (cosine) walks the graph with this function: on 300 vectors with a search width
      // above their count, it finds the exact top 5.
      await db.pool.query('create table simd_t (id int primary key, e vector(24))');
      const vectors = Array.from({ length: 300 }, () => Array.from({ length: 24 }, () => rand() - 0.5));
      await db.pool.query(`insert into simd_t select i, v::vector from unnest($1::int[], $2::text[]) as x(i, v)`, [
        vectors.map((_, i) => i),
        vectors.map((v) => JSON.stringify(v)),
      ]);
      await db.pool.query('create index on simd_t using hnsw (e vector_cosine_ops)');
      const q = JSON.stringify(vectors[42]!.map((x) => x + 0.01));
      const top = async (index: boolean) =>
        (
          await db.pool.query(
            `set local enable_seqscan = ${index ? 'off' : 'on'}; set local enable_indexscan = ${index ? 'on' : 'off'}; set local hnsw.ef_search = 400; select id from simd_t order by e <=> '${q}' limit 5`,
          )
        ).rows.map((r) => r.id as number);
      const plan = await db.pool.query(`set local enable_seqscan = off; explain select id from simd_t order by e <=> '${q}' limit 5`);
      expect(plan.rows.map((r) => r['QUERY PLAN'] as string).join('\n')).toMatch(/Index Scan using simd_t_e_idx/);
      const viaIndex = await top(true);
      expect(viaIndex[0]).toBe(42);
      expect(viaIndex).toEqual(await top(false));
    } finally {
      await db.close();
    }
  });
});
