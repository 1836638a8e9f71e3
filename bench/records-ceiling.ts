/**
 * The ceiling for the records benchmark: a minimal Fastify + pg server running the same SQL as
 * Infinity's records API for the benchmarked operations, with none of the platform around it.
 * argv: port databaseUrl schema
 */
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';
import pg from 'pg';

const [portArg, url, schema] = process.argv.slice(2);
const pool = new pg.Pool({ connectionString: url, max: 10 });
const t = (name: string) => `"${schema}"."${name}"`;
const app = Fastify();

app.get('/employees/:id', async (req) => {
  const r = await pool.query(`select * from ${t('employees')} where id = $1::uuid`, [(req.params as { id: string }).id]);
  return { data: r.rows[0] };
});
app.get('/employees', async () => {
  const r = await pool.query(`select t.* from ${t('employees')} t where t.age >= $1::bigint and t.level = $2::text order by t.age desc, t.id desc limit 21`, [
    30,
    'senior',
  ]);
  return { data: r.rows.slice(0, 20) };
});
app.get('/employees-expand', async () => {
  const r = await pool.query(`select t.* from ${t('employees')} t order by t.created_at, t.id limit 21`);
  const rows = r.rows.slice(0, 20);
  const ids = [...new Set(rows.map((x) => x.company as string))];
  const c = await pool.query(`select * from ${t('companies')} where id = any($1::uuid[])`, [ids]);
  const byId = new Map(c.rows.map((x) => [x.id as string, x]));
  return { data: rows.map((x) => ({ ...x, company: byId.get(x.company as string) ?? null })) };
});
app.post('/employees', async (req, reply) => {
  const b = req.body as { email: string; name: string; age: number; level: string; company: string };
  const r = await pool.query(
    `insert into ${t('employees')} (id, created_by, updated_by, email, name, age, level, company) values ($1::uuid, $2, $2, $3, $4, $5, $6, $7) returning *`,
    [randomUUID(), 'bench', b.email, b.name, b.age, b.level, b.company],
  );
  return reply.status(201).send({ data: r.rows[0] });
});
app.post('/employees/bulk', async (req) => {
  const items = (req.body as { items: { email: string; name: string; age: number; level: string; company: string }[] }).items;
  const client = await pool.connect();
  try {
    await client.query('begin');
    const values: unknown[] = [];
    const tuples = items.map((b, i) => {
      values.push(randomUUID(), b.email, b.name, b.age, b.level, b.company);
      const o = i * 6;
      return `($${o + 1}::uuid, 'bench', 'bench', $${o + 2}, $${o + 3}, $${o + 4}, $${o + 5}, $${o + 6})`;
    });
    await client.query(`insert into ${t('employees')} (id, created_by, updated_by, email, name, age, level, company) values ${tuples.join(',')}`, values);
    await client.query('commit');
    return { data: { count: items.length } };
  } catch (err) {
    await client.query('rollback');
    throw err;
  } finally {
    client.release();
  }
});
app.get('/ready', async () => ({ ok: true }));
await app.listen({ port: Number(portArg), host: '127.0.0.1' });
