import type { PGlite, Results } from '@electric-sql/pglite';

/**
 * A pg.Pool look-alike over PGlite's own query API: what Kysely's PostgresDialect and our code
 * use (connect → client.query / release, pool.query, end).
 *
 * NB: not PGlite's node-postgres adapter. In 0.5.14 a failed parameterized query there leaves the
 * connection out of step: the next query fails with "Connection terminated unexpectedly" and a
 * later one crashes the process with an unhandled 'error' event. PGlite's own query() does not.
 *
 * PGlite is one connection: a client is handed out to one caller at a time (a transaction holds
 * it from BEGIN to COMMIT), the others wait in order.
 */
// Plain SQL rows are untyped on purpose (tests, diagnostics); typed access goes through Kysely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyRow = Record<string, any>;

export interface QueryResultLike<R = AnyRow> {
  rows: R[];
  rowCount: number;
  command: string;
}

export interface PoolClientLike {
  query<R = AnyRow>(text: string, params?: readonly unknown[]): Promise<QueryResultLike<R>>;
  release(): void;
}

export interface PoolLike {
  connect(): Promise<PoolClientLike>;
  query<R = AnyRow>(text: string, params?: readonly unknown[]): Promise<QueryResultLike<R>>;
  end(): Promise<void>;
  /** Connection counts, where the pool keeps them (pg.Pool does; the embedded database has one connection). */
  readonly totalCount?: number;
  readonly idleCount?: number;
  readonly waitingCount?: number;
}

function toResult<R>(r: Results<R>): QueryResultLike<R> {
  const command = (r as Results<R> & { command?: string }).command ?? '';
  // pg counts returned rows for SELECT and affected rows for writes.
  return { rows: r.rows, rowCount: r.rows.length > 0 ? r.rows.length : (r.affectedRows ?? 0), command };
}

async function run<R>(db: PGlite, text: string, params?: readonly unknown[]): Promise<QueryResultLike<R>> {
  if (!params || params.length === 0) {
    // Like pg: without parameters use the simple protocol, which allows several statements (migrations).
    const all = await db.exec(text);
    const last = all[all.length - 1];
    return last ? toResult(last as Results<R>) : { rows: [], rowCount: 0, command: '' };
  }
  return toResult(await db.query<R>(text, params as unknown[]));
}

export function createPglitePool(db: PGlite): PoolLike {
  let tail: Promise<void> = Promise.resolve();
  let closed = false;
  const acquire = (): Promise<() => void> => {
    if (closed) return Promise.reject(new Error('pool is closed'));
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const ready = tail.then(() => {
      let released = false;
      return () => {
        if (!released) {
          released = true;
          release();
        }
      };
    });
    tail = tail.then(() => mine);
    return ready;
  };
  return {
    async connect() {
      const release = await acquire();
      return { query: (text, params) => run(db, text, params), release };
    },
    async query(text, params) {
      const release = await acquire();
      try {
        return await run(db, text, params);
      } finally {
        release();
      }
    },
    async end() {
      closed = true;
      await tail;
    },
  };
}
