/**
 * Records API on PostgreSQL against the ceiling (bench/records-ceiling.ts: bare Fastify + pg, same
 * SQL): get by id, list with two filters + sort + limit 20, single insert, list with expand, and
 * bulk insert in 1,000-row batches.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { type LoadResult, freePort, load, postJson, quick, root, spawnServer } from './lib.js';

export async function recordsBench(): Promise<Record<string, unknown>> {
  const dbName = `infinity_bench_rec_${Date.now()}`;
  const admin = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
  await admin.connect();
  await admin.query(`create database "${dbName}"`);
  const dbUrl = `postgres://postgres@127.0.0.1:5432/${dbName}`;
  const port = await freePort();
  const masterKey = randomBytes(32).toString('base64');
  const jwtSecret = randomBytes(32).toString('hex');
  const server = await spawnServer(
    [path.join(root, 'apps/server/dist/cli.js'), 'start', '--port', String(port)],
    { DATABASE_URL: dbUrl, INFINITY_MASTER_KEY: masterKey, INFINITY_JWT_SECRET: jwtSecret },
    port,
    '/health/ready',
  );
  const api = `${server.url}/api/v1`;
  const su = await postJson(`${api}/auth/signup`, { name: 'Bench', email: 'bench@example.com', password: 'bench password 1' });
  const auth = { authorization: `Bearer ${su.data.accessToken as string}` };
  const key = (await postJson(`${api}/api-keys`, { name: 'bench', role: 'editor' }, auth)).data.key as string;
  const h = { 'x-api-key': key };
  await postJson(`${api}/models`, { name: 'companies', fields: [{ name: 'name', type: 'string', required: true }] }, h);
  await postJson(
    `${api}/models`,
    {
      name: 'employees',
      fields: [
        { name: 'email', type: 'string', required: true, unique: true },
        { name: 'name', type: 'string' },
        { name: 'age', type: 'integer', min: 16, indexed: true },
        { name: 'level', type: 'enum', values: ['junior', 'senior'], indexed: true },
        { name: 'company', type: 'relation', target: 'companies', onDelete: 'cascade' },
      ],
    },
    h,
  );
  const companies: string[] = [];
  for (let i = 0; i < 20; i++) companies.push((await postJson(`${api}/data/companies`, { name: `Company ${i}` }, h)).data.id as string);
  let seq = 0;
  const person = () => {
    seq++;
    return {
      email: `p${seq}-${process.pid}@example.com`,
      name: `Person ${seq}`,
      age: 18 + (seq % 50),
      level: seq % 3 ? 'junior' : 'senior',
      company: companies[seq % companies.length]!,
    };
  };
  const seedRows = quick ? 10_000 : 50_000;
  for (let i = 0; i < seedRows; i += 5000) await postJson(`${api}/data/employees/bulk`, { op: 'create', items: Array.from({ length: 5000 }, person) }, h);
  const someId = ((await (await fetch(`${api}/data/employees?limit=1`, { headers: h })).json()) as { data: { id: string }[] }).data[0]!.id;
  const schema = ((await (await fetch(`${api}/me`, { headers: h })).json()) as { data: { organization: { schema: string } } }).data.organization.schema;

  // The same server with the request log and metrics switched off, on the same database: their cost.
  const quietPort = await freePort();
  const quiet = await spawnServer(
    [path.join(root, 'apps/server/dist/cli.js'), 'start', '--port', String(quietPort)],
    {
      DATABASE_URL: dbUrl,
      INFINITY_MASTER_KEY: masterKey,
      INFINITY_JWT_SECRET: jwtSecret,
      INFINITY_REQUEST_LOG: 'false',
      INFINITY_METRICS: 'false',
    },
    quietPort,
    '/health/ready',
  );
  const cport = await freePort();
  const ceiling = await spawnServer(['--import', 'tsx', path.join(root, 'bench/records-ceiling.ts'), String(cport), dbUrl, schema], {}, cport, '/ready');

  // Interleaved rounds (ceiling, then Infinity, per operation), median per side: the machine drifts
  // by tens of percent between minutes, so back-to-back single runs are not a fair comparison.
  const rounds = quick ? 1 : 3;
  const duration = quick ? 3 : 4;
  const ops: [string, Parameters<typeof load>[0], Parameters<typeof load>[0]][] = [
    ['get by id', { url: `${api}/data/employees/${someId}`, headers: h }, { url: `${ceiling.url}/employees/${someId}` }],
    [
      'list: 2 filters + sort + limit 20',
      { url: `${api}/data/employees?filter[age][gte]=30&filter[level][eq]=senior&sort=-age,-id&limit=20`, headers: h },
      { url: `${ceiling.url}/employees` },
    ],
    ['list with expand (20 + related)', { url: `${api}/data/employees?limit=20&expand=company`, headers: h }, { url: `${ceiling.url}/employees-expand` }],
    [
      'single insert',
      { url: `${api}/data/employees`, headers: h, body: () => JSON.stringify(person()) },
      { url: `${ceiling.url}/employees`, body: () => JSON.stringify(person()) },
    ],
  ];
  const samples = ops.map(() => ({ ceiling: [] as LoadResult[], ours: [] as LoadResult[] }));
  for (let r = 0; r < rounds; r++) {
    for (const [i, [, ours, theirs]] of ops.entries()) {
      samples[i]!.ceiling.push(await load({ ...theirs, duration }));
      samples[i]!.ours.push(await load({ ...ours, duration }));
    }
  }
  const median = (xs: LoadResult[]) => [...xs].sort((a, b) => a.rps - b.rps)[Math.floor(xs.length / 2)]!;
  // Request log + metrics overhead: GET by id with them (the main server) and without (quiet), interleaved.
  const withObs: LoadResult[] = [];
  const withoutObs: LoadResult[] = [];
  for (let r = 0; r < Math.max(3, rounds); r++) {
    withoutObs.push(await load({ url: `${quiet.url}/api/v1/data/employees/${someId}`, headers: h, duration }));
    withObs.push(await load({ url: `${api}/data/employees/${someId}`, headers: h, duration }));
  }
  const obs = { with: median(withObs), without: median(withoutObs) };
  const obsOverhead = Math.round((1 - obs.with.rps / obs.without.rps) * 1000) / 10;
  const rows: [string, LoadResult, LoadResult][] = ops.map(([name], i) => [name, median(samples[i]!.ceiling), median(samples[i]!.ours)]);

  const batches = quick ? 5 : 10;
  const bulkRate = async (url: string, headers: Record<string, string>, body: (items: unknown[]) => unknown) => {
    const t = performance.now();
    for (let i = 0; i < batches; i++) await postJson(url, body(Array.from({ length: 1000 }, person)), headers);
    return Math.round((batches * 1000) / ((performance.now() - t) / 1000));
  };
  const bulkSamples = { ceiling: [] as number[], ours: [] as number[] };
  for (let r = 0; r < rounds; r++) {
    bulkSamples.ceiling.push(await bulkRate(`${ceiling.url}/employees/bulk`, {}, (items) => ({ items })));
    bulkSamples.ours.push(await bulkRate(`${api}/data/employees/bulk`, h, (items) => ({ op: 'create', items })));
  }
  const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const bulkCeiling = mid(bulkSamples.ceiling);
  const bulkOurs = mid(bulkSamples.ours);
  ceiling.kill();
  quiet.kill();
  server.kill();
  await admin.query(`drop database "${dbName}" with (force)`);
  await admin.end();

  console.log(
    `\nRecords API on PostgreSQL vs the ceiling (bare Fastify + pg, same SQL); ${seedRows.toLocaleString('en')} employees, 10 connections; median of ${rounds} interleaved rounds\n`,
  );
  console.log('| operation | ceiling req/s | infinity req/s | share of ceiling | infinity p50 / p99 ms |');
  console.log('|---|---:|---:|---:|---:|');
  for (const [name, c, o] of rows) console.log(`| ${name} | ${c.rps} | ${o.rps} | ${Math.round((100 * o.rps) / c.rps)}% | ${o.p50} / ${o.p99} |`);
  console.log(`| bulk insert, 1,000-row batches (rows/s) | ${bulkCeiling} | ${bulkOurs} | ${Math.round((100 * bulkOurs) / bulkCeiling)}% | — |\n`);
  console.log(
    `Request log + metrics overhead on GET of a record: ${obs.with.rps} req/s with, ${obs.without.rps} without (p50 ${obs.with.p50} vs ${obs.without.p50} ms): ${obsOverhead}% (goal < 10%)\n`,
  );
  return {
    observability: { ...obs, overheadPercent: obsOverhead },
    rows: rows.map(([name, c, o]) => ({ name, ceiling: c, infinity: o })),
    bulk: { ceiling: bulkCeiling, infinity: bulkOurs },
    seedRows,
  };
}
