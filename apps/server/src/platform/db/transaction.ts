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
