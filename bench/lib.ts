import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';

export const root = path.resolve(import.meta.dirname, '..');
export const quick = process.argv.includes('--quick');

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const children: ChildProcess[] = [];
process.on('exit', () => children.forEach((c) => c.kill()));

/**
 * Starts a server process whose logs go to a file (as in production), not through this process:
 * reading them here would steal CPU from the load generator on a 2-core machine.
 */
export async function spawnServer(args: string[], env: Record<string, string>, port: number, probe: string) {
  const url = `http://127.0.0.1:${port}`;
  const log = openSync(path.join(os.tmpdir(), `infinity-bench-${process.pid}-${port}.log`), 'w');
  // Benchmarks measure speed, not plans: organizations get no limits unless a bench says otherwise.
  const proc = spawn(process.execPath, args, { env: { INFINITY_DEFAULT_PLAN: 'enterprise', ...process.env, ...env }, stdio: ['ignore', log, log] });
  children.push(proc);
  let exited = false;
  proc.on('exit', () => (exited = true));
  for (let i = 0; i < 600 && !exited; i++) {
    if (
      await fetch(`${url}${probe}`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return { url, pid: proc.pid!, kill: () => proc.kill('SIGTERM') };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server did not come up: ${args.join(' ')}`);
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Requests answered (all 2xx) over the run. */
  total: number;
}

export async function load(opts: {
  url: string;
  headers?: Record<string, string>;
  method?: 'GET' | 'POST';
  body?: () => string;
  duration?: number;
  connections?: number;
}): Promise<LoadResult> {
  const r = await autocannon({
    url: opts.url,
    connections: opts.connections ?? 10,
    duration: opts.duration ?? (quick ? 3 : 8),
    headers: { ...(opts.body ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    ...(opts.body
      ? { requests: [{ method: opts.method ?? 'POST', setupRequest: (req: Record<string, unknown>) => ({ ...req, body: opts.body!() }) }] }
      : { method: opts.method ?? 'GET' }),
  } as autocannon.Options);
  if (r.non2xx > 0 || r.errors > 0) throw new Error(`${opts.url}: ${r.non2xx} non-2xx, ${r.errors} errors`);
  return { rps: Math.round(r.requests.average), p50: r.latency.p50, p99: r.latency.p99, total: r.requests.total };
}

export async function postJson<T = Record<string, any>>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const json = (await res.json()) as T;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(json).slice(0, 300)}`);
  return json;
}

export type Backend = 'postgres' | 'embedded';
export const PG_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/**
 * Environment of an `infinity start` child on a fresh database: its own data folder, plus (PostgreSQL)
 * a new database and keys, as an operator would set them.
 */
export async function backendEnv(backend: Backend, name: string): Promise<Record<string, string>> {
  const env: Record<string, string> = { INFINITY_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), `infinity-bench-${name}-`)) };
  if (backend === 'embedded') return env;
  const db = `infinity_bench_${name}_${Date.now()}`;
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  await c.query(`create database "${db}"`);
  await c.end();
  return {
    ...env,
    DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${db}`,
    INFINITY_MASTER_KEY: randomBytes(32).toString('base64'),
    INFINITY_JWT_SECRET: randomBytes(32).toString('hex'),
  };
}

/** A memory figure of a process from /proc (VmRSS: resident now; VmHWM: highest resident since it started), KiB. */
export const memKiB = (pid: number, key: 'VmRSS' | 'VmHWM' = 'VmRSS') =>
  Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** CPU time (user + system) a process has used so far, seconds; 0 when it is gone. Linux clock ticks are 1/100 s. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}
