import type { Kysely, Transaction } from 'kysely';

/** What a use case gets inside a transaction: the transaction and a place for after-commit work. */
export interface UnitOfWork<DB> {
  trx: Transaction<DB>;
  /** Runs after a successful commit, never after a rollback (events, cache invalidation). */
  afterCommit: (fn: () => void) => void;
}

export async function inTransaction<DB, T>(db: Kysely<DB>, fn: (uow: UnitOfWork<DB>) => Promise<T>): Promise<T> {
  const after: (() => void)[] = [];
  const result = await db.transaction().execute((trx) => fn({ trx, afterCommit: (f) => after.push(f) }));
  for (const f of after) f();
  return result;
}
