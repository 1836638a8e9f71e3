/**
 * npm run bench [-- --quick] [-- --postgres] [-- --flows-only] [-- --vectors-only [--corpus topics|markdown|salad]] [-- --records-only]
 *   [-- --realtime [--subscribers 1000,10000] [--backends embedded,postgres] [--parts fanout,deliveries,write-path]] (bench/realtime.ts; never part of the default run)
 * Identity overhead: GET /api/v1/me (API key, JWT) on the real `infinity start` process against a
 * bare Fastify process returning the same JSON; plus login latency. Prints a table and writes
 * bench/results/identity.json. Loopback only.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, load, root, spawnServer } from './lib.js';
import { recordsBench } from './records.js';
import { flowsBench, printFlows } from './flows.js';
import { CORPORA, type Corpus, type VectorBench, printVectors, vectorsBench } from './vectors.js';
import { printRealtime, realtimeBench } from './realtime.js';
import pg from 'pg';

const quick = process.argv.includes('--quick');
const usePostgres = process.argv.includes('--postgres');
const DURATION = quick ? 2 : 4;
const ROUNDS = quick ? 1 : 3;
const CONNECTIONS = 10;

async function loadGet(url: string, headers: Record<string, string> = {}) {
  return load({ url, headers, duration: DURATION, connections: CONNECTIONS });
}

async function main() {
  if (process.argv.includes('--flows-only')) return runFlows();
  if (process.argv.includes('--vectors-only')) return runVectors();
  if (process.argv.includes('--records-only')) return runRecords();
  if (process.argv.includes('--realtime')) return runRealtime();

  const env: Record<string, string> = { INFINITY_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), 'infinity-bench-')), INFINITY_LOG_LEVEL: 'info' };
  if (usePostgres) {
    const db = `infinity_bench_${Date.now()}`;
    const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/postgres' });
    await c.connect();
    await c.query(`create database "${db}"`);
    await c.end();
    Object.assign(env, {
      DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${db}`,
      INFINITY_MASTER_KEY: randomBytes(32).toString('base64'),
      INFINITY_JWT_SECRET: randomBytes(32).toString('hex'),
    });
  }
  process.stderr.write(`starting infinity (${usePostgres ? 'PostgreSQL' : 'embedded'})…\n`);
  const port = await freePort();
  const server = await spawnServer([path.join(root, 'apps/server/dist/cli.js'), 'start', '--port', String(port)], env, port, '/health/ready');
  const post = async (p: string, body: unknown, token?: string) => {
    const res = await fetch(`${server.url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return (await res.json()) as { data: Record<string, unknown> };
  };
  const su = await post('/api/v1/auth/signup', { name: 'Bench', email: 'bench@example.com', password: 'bench password 1' });
  const token = su.data.accessToken as string;
  const key = (await post('/api/v1/api-keys', { name: 'bench', role: 'editor' }, token)).data.key as string;
  const meBody = await (await fetch(`${server.url}/api/v1/me`, { headers: { 'x-api-key': key } })).text();

  const plainPort = await freePort();
  const plain = await spawnServer(['--import', 'tsx', path.join(root, 'bench/plain-server.ts'), String(plainPort), meBody], {}, plainPort, '/me');

  process.stderr.write(`load: ${CONNECTIONS} connections × ${DURATION} s each\n`);
  const platformPort = await freePort();
  const platform = await spawnServer(['--import', 'tsx', path.join(root, 'bench/platform-server.ts'), String(platformPort), meBody], {}, platformPort, '/me');
  // Interleaved rounds, median per endpoint: this 2-core machine drifts by tens of percent between
  // minutes, so a single run per endpoint one after another cannot compare them fairly.
  const targets = {
    plain: [`${plain.url}/me`, {}],
    platform: [`${platform.url}/me`, {}],
    health: [`${server.url}/health/live`, {}],
    apiKey: [`${server.url}/api/v1/me`, { 'x-api-key': key }],
    jwt: [`${server.url}/api/v1/me`, { authorization: `Bearer ${token}` }],
  } as const;
  const samples: Record<string, { rps: number; p50: number; p99: number }[]> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, [url, headers]] of Object.entries(targets)) (samples[name] ??= []).push(await loadGet(url, headers));
  }
  const median = (xs: { rps: number; p50: number; p99: number }[]) => [...xs].sort((a, b) => a.rps - b.rps)[Math.floor(xs.length / 2)]!;
  const results = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<
    keyof typeof targets,
    { rps: number; p50: number; p99: number }
  >;

  plain.kill();
  platform.kill();

  const logins: number[] = [];
  for (let i = 0; i < (quick ? 10 : 30); i++) {
    const t = performance.now();
    await post('/api/v1/auth/login', { email: 'bench@example.com', password: 'bench password 1' });
    logins.push(performance.now() - t);
  }
  server.kill();
  logins.sort((a, b) => a - b);
  const pct = (p: number) => Math.round(logins[Math.min(logins.length - 1, Math.floor((p / 100) * logins.length))]! * 10) / 10;
  const below = (rps: number, base: number) => `${Math.round((1 - rps / base) * 100)}%`;

  const rows = [
    ['bare Fastify, same JSON (ceiling)', results.plain, '—', '—'],
    ['Infinity platform, public route, same JSON (no identity)', results.platform, below(results.platform.rps, results.plain.rps), '—'],
    ['infinity GET /health/live', results.health, below(results.health.rps, results.plain.rps), '—'],
    ['infinity GET /api/v1/me, API key', results.apiKey, below(results.apiKey.rps, results.plain.rps), below(results.apiKey.rps, results.platform.rps)],
    ['infinity GET /api/v1/me, JWT', results.jwt, below(results.jwt.rps, results.plain.rps), below(results.jwt.rps, results.platform.rps)],
  ] as const;
  console.log(
    `\nIdentity overhead (${usePostgres ? 'PostgreSQL' : 'embedded'}; ${CONNECTIONS} connections; median of ${ROUNDS} interleaved rounds of ${DURATION} s)\n`,
  );
  console.log('| endpoint | req/s | p50 ms | p99 ms | below bare Fastify | identity overhead (vs same JSON, same platform) |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [name, r, o, i] of rows) console.log(`| ${name} | ${r.rps} | ${r.p50} | ${r.p99} | ${o} | ${i} |`);
  console.log(`\nLogin (Argon2id verify + session), ${logins.length} sequential: p50 ${pct(50)} ms, p95 ${pct(95)} ms\n`);
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(
    path.join(root, 'bench/results/identity.json'),
    JSON.stringify({ at: new Date().toISOString(), backend: usePostgres ? 'postgres' : 'pglite', results, login: { p50: pct(50), p95: pct(95) } }, null, 2),
  );
  if (!process.argv.includes('--identity-only')) await runRecords();
  if (!process.argv.includes('--identity-only')) await runFlows();
  if (!process.argv.includes('--identity-only')) await runVectors();
}

async function runRecords() {
  const rec = await recordsBench();
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/records.json'), JSON.stringify({ at: new Date().toISOString(), ...rec }, null, 2));
}

async function runVectors() {
  const at = process.argv.indexOf('--corpus');
  const only = at < 0 ? undefined : process.argv[at + 1];
  if (at >= 0 && !CORPORA.includes(only as Corpus)) throw new Error(`--corpus is one of ${CORPORA.join(', ')}`);
  const results: VectorBench[] = [];
  for (const corpus of only ? [only as Corpus] : CORPORA) results.push(await vectorsBench(corpus));
  results.forEach(printVectors);
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/vectors.json'), JSON.stringify({ at: new Date().toISOString(), corpora: results }, null, 2));
}

async function runRealtime() {
  const r = await realtimeBench();
  printRealtime(r);
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/realtime.json'), JSON.stringify(r, null, 2));
}

async function runFlows() {
  const r = await flowsBench();
  printFlows(r);
  mkdirSync(path.join(root, 'bench/results'), { recursive: true });
  writeFileSync(path.join(root, 'bench/results/flows.json'), JSON.stringify({ at: new Date().toISOString(), ...r }, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
