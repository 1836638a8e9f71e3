import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, type PostgresCursor, PostgresDialect, type PostgresPool, type PostgresPoolClient, type PostgresQueryResult, sql } from 'kysely';
import pg from 'pg';
import { type PoolLike, createPglitePool } from './pglite-pool.js';
import { simdVectorExtension } from './pgvector-simd.js';

// Both drivers return the same JavaScript values for the same SQL types:
//  - bigint (and bigint[]) as numbers: counts, sizes, sequence numbers stay below 2^53, and
//    integer fields are documented as 53-bit safe;
//  - date as 'YYYY-MM-DD' text (a JS Date would shift it by the process's time zone);
//  - bytea as Buffer.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
const setParser = pg.types.setTypeParser as (oid: number, parse: (v: string) => unknown) => void;
const getParser = pg.types.getTypeParser as (oid: number) => (v: string) => unknown;
setParser(1016, (v) => (getParser(1007)(v) as unknown[]).map(Number)); // bigint[] like int[]
pg.types.setTypeParser(1082, (v) => v);
const PGLITE_PARSERS = {
  20: (v: string) => Number.parseInt(v, 10),
  1082: (v: string) => v,
  17: (v: string) => Buffer.from(v.slice(2), 'hex'),
};

export interface DatabaseInfo {
  kind: 'pglite' | 'postgres';
  serverVersion: string;
  /** pgvector is installed and created in the database. */
  vector: boolean;
  /**
   * Embedded only: whether pgvector's inner product runs on WebAssembly SIMD (see
   * pgvector-simd.ts), and if not, why.
   */
  vectorSimd?: { on: boolean; reason?: string };
  /** Where the data lives: a folder (embedded) or the URL without credentials. */
  location: string;
}

export interface Database {
  kind: 'pglite' | 'postgres';
  /** Kysely over the shared pool; modules narrow it with `withTables<…>()`. */
  kysely: Kysely<object>;
  /** Plain SQL access (tests, diagnostics): a pg.Pool, or the same interface over PGlite. */
  pool: PoolLike;
  info: DatabaseInfo;
  /** The embedded engine, for snapshotting in tests and backups; undefined on PostgreSQL. */
  pglite: PGlite | undefined;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** Embedded folder; 'memory://' keeps everything in memory (tests). */
  pgliteDataDir?: string;
  /** A dumpDataDir() snapshot to start from (tests share one migrated template). */
  pgliteSnapshot?: Blob | File;
  postgresUrl?: string;
  poolSize?: number;
  /** PostgreSQL settings for the embedded engine, e.g. ['shared_buffers=16MB']. */
  pgliteSettings?: string[];
  /** Told when the embedded database is created for the first time (it takes seconds). */
  onInitdb?: () => void;
}

/**
 * pg answers a parameterless query of several statements with one result per statement, which
 * Kysely cannot read (it sees no rows); the embedded pool answers with the last one. So does this
 * view of a pg.Pool, so `SET LOCAL …; SELECT …` sent as one query returns the rows on both.
 */
function lastResultPool(pool: pg.Pool): PostgresPool {
  const views = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const view = (client: pg.PoolClient): PostgresPoolClient => {
    function query<R>(text: string, params: readonly unknown[]): Promise<PostgresQueryResult<R>>;
    function query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
    function query(text: string | PostgresCursor<unknown>, params?: readonly unknown[]): unknown {
      if (typeof text !== 'string') return client.query(text as never); // cursors (not configured) pass through
      return client.query(text, params as unknown[]).then((r: pg.QueryResult | pg.QueryResult[]) => (Array.isArray(r) ? r[r.length - 1]! : r));
    }
    return { query, release: () => client.release() };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let v = views.get(client);
      if (!v) views.set(client, (v = view(client)));
      return v;
    },
    end: () => pool.end(),
  };
}

/** Opens PGlite when no postgresUrl is given; both paths end in the same pg.Pool + Kysely. */
export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  if (opts.postgresUrl) return openPostgres(opts.postgresUrl, opts.poolSize ?? 10);
  return openPglite(opts);
}

async function openPostgres(url: string, poolSize: number): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it. Queries report their own errors.
  });
  const kysely = new Kysely<object>({ dialect: new PostgresDialect({ pool: lastResultPool(pool) }) });
  try {
    const info = await inspect(kysely, 'postgres', redactUrl(url));
    return { kind: 'postgres', kysely, pool: pool as unknown as PoolLike, info, pglite: undefined, close: () => kysely.destroy() };
  } catch (err) {
    await kysely.destroy().catch(() => {});
    throw err;
  }
}

async function openPglite(opts: DatabaseOptions): Promise<Database> {
  const dataDir = opts.pgliteDataDir ?? 'memory://';
  const onDisk = !dataDir.startsWith('memory://');
  let release = () => {};
  let fresh = false;
  if (onDisk) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    release = lockDataDir(dataDir);
    fresh = !existsSync(path.join(dataDir, 'PG_VERSION'));
    if (fresh) opts.onInitdb?.();
  } else if (!opts.pgliteSnapshot) {
    opts.onInitdb?.();
  }
  let engine: PGlite;
  const vector = simdVectorExtension();
  const create = () =>
    vector.use((extension) =>
      PGlite.create({
        dataDir,
        extensions: { vector: extension },
        parsers: PGLITE_PARSERS,
        ...(opts.pgliteSettings?.length ? { postgresqlconf: opts.pgliteSettings } : {}),
        ...(opts.pgliteSnapshot ? { loadDataDir: opts.pgliteSnapshot } : {}),
      }),
    );
  try {
    if (fresh) await initdbInChild(dataDir, opts.pgliteSettings ?? []);
    engine = await create();
  } catch (err) {
    release();
    throw err;
  }
  // NB: PGlite is one connection. The pool hands it to one caller at a time, so a long
  // transaction blocks every other query of the process: keep transactions short.
  const pool = createPglitePool(engine);
  const kysely = new Kysely<object>({ dialect: new PostgresDialect({ pool: pool as never }) });
  const info = {
    ...(await inspect(kysely, 'pglite', onDisk ? dataDir : 'memory')),
    vectorSimd: { on: vector.simd, ...(vector.reason ? { reason: vector.reason } : {}) },
  };
  return {
    kind: 'pglite',
    kysely,
    pool,
    info,
    pglite: engine,
    close: async () => {
      await kysely.destroy();
      await engine.close();
      release();
    },
  };
}

async function inspect(kysely: Kysely<object>, kind: 'pglite' | 'postgres', location: string): Promise<DatabaseInfo> {
  const version = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(kysely);
  const available = await sql<{ ok: boolean }>`
    select exists (select 1 from pg_available_extensions where name = 'vector') as ok`.execute(kysely);
  let hasVector = false;
  if (available.rows[0]?.ok) {
    try {
      await sql`create extension if not exists vector`.execute(kysely);
      hasVector = true;
    } catch {
      // Installed on the server but this role may not create it: run without it (exact scans).
      hasVector = false;
    }
  }
  return { kind, serverVersion: version.rows[0]?.v ?? 'unknown', vector: hasVector, location };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}

/**
 * Creates a new embedded database folder in a short-lived child process. NB: initdb grows the
 * WASM heap to ~700 MiB and a WASM heap never shrinks; closing and reopening in this process
 * still left ~90 MiB more resident than any later start, and a 800 MiB high-water mark.
 */
async function initdbInChild(dataDir: string, settings: string[]): Promise<void> {
  const resolve = createRequire(import.meta.url).resolve;
  const code = `
    const { PGlite } = require(${JSON.stringify(resolve('@electric-sql/pglite'))});
    const { vector } = require(${JSON.stringify(resolve('@electric-sql/pglite-pgvector'))});
    const [dataDir, settings] = JSON.parse(process.argv[1]);
    PGlite.create({ dataDir, extensions: { vector }, ...(settings.length ? { postgresqlconf: settings } : {}) })
      .then((db) => db.close())
      .catch((err) => { process.stderr.write(String(err && err.message || err)); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', code, JSON.stringify([dataDir, settings])], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-2000)));
  const [exitCode, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  if (exitCode !== 0)
    throw new Error(`Creating the embedded database in ${dataDir} failed (${signal ?? `exit ${exitCode}`}): ${stderr.trim() || 'no message'}`);
}

/**
 * PGlite must never be opened by two processes at once (it would corrupt the folder).
 * A pid file guards it; a stale file from a crashed process is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const lock = path.join(dataDir, '..', `${path.basename(dataDir)}.lock`);
  if (existsSync(lock)) {
    const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) {
      throw new Error(`The embedded database in ${dataDir} is in use by process ${pid}. Stop it first, or use another --data folder.`);
    }
  }
  writeFileSync(lock, String(process.pid), { mode: 0o600 });
  return () => rmSync(lock, { force: true });
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
