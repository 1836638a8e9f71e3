import type { Kysely, Transaction } from 'kysely';

/** What a use case gets inside a transaction: the transaction and places for work around its commit. */
export interface UnitOfWork<DB> {
  trx: Transaction<DB>;
  /** Runs after a successful commit, never after a rollback (events, cache invalidation). */
  afterCommit: (fn: () => void) => void;
  /**
   * Runs inside the transaction just before it commits, after the use case's own work (the event
   * spine writes its outbox rows here, one insert per transaction). A failure rolls everything back.
   */
  beforeCommit: (fn: () => Promise<void>) => void;
}

export async function inTransaction<DB, T>(db: Kysely<DB>, fn: (uow: UnitOfWork<DB>) => Promise<T>): Promise<T> {
  const after: (() => void)[] = [];
  const before: (() => Promise<void>)[] = [];
  const result = await db.transaction().execute(async (trx) => {
    const r = await fn({ trx, afterCommit: (f) => after.push(f), beforeCommit: (f) => before.push(f) });
    // A hook may add another (an event emitted by a hook): run until none is left.
    for (let i = 0; i < before.length; i++) await before[i]!();
    return r;
  });
  for (const f of after) f();
  return result;
}

/**
 * A unit of work without a transaction, for a use case that is ONE statement (it commits by
 * itself): its before-commit hooks run after the statement, its after-commit hooks after them, and
 * none of them when it fails. Two round trips fewer than `inTransaction` on PostgreSQL.
 * NB: only for one statement, and only when no before-commit hook must be atomic with it (the
 * caller has checked that no outbox row is wanted, e.g. with the spine's `wantsOutbox`).
 */
export async function inStatement<DB, T>(db: Kysely<DB>, fn: (uow: UnitOfWork<DB>) => Promise<T>): Promise<T> {
  const after: (() => void)[] = [];
  const before: (() => Promise<void>)[] = [];
  // NB: the database itself stands in for the transaction: a Transaction is a Kysely that cannot
  // open another, and a one-statement use case never does.
  const r = await fn({ trx: db as Transaction<DB>, afterCommit: (f) => after.push(f), beforeCommit: (f) => before.push(f) });
  for (let i = 0; i < before.length; i++) await before[i]!();
  for (const f of after) f();
  return r;
}
