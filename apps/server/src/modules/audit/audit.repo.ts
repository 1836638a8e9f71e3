import { type Kysely, type Transaction, sql } from 'kysely';
import type { AuditLogTable, AuditTables } from './audit.tables.js';

export type AuditDb = Kysely<AuditTables>;
export type AuditRow = {
  [K in keyof AuditLogTable]: K extends 'at' ? Date : K extends 'details' ? Record<string, unknown> : AuditLogTable[K];
};

/** Locks the organization's chain head (creating it at genesis) and returns it. */
export async function lockHead(trx: Transaction<AuditTables>, orgId: string, genesis: string) {
  await trx
    .insertInto('audit_heads')
    .values({ org_id: orgId, seq: 0, hash: genesis })
    .onConflict((oc) => oc.column('org_id').doNothing())
    .execute();
  return trx.selectFrom('audit_heads').select(['seq', 'hash']).where('org_id', '=', orgId).forUpdate().executeTakeFirstOrThrow();
}

export async function appendEntry(trx: Transaction<AuditTables>, row: Omit<AuditRow, 'at' | 'details'> & { at: string; details: string }) {
  await trx.insertInto('audit_log').values(row).execute();
  await trx.updateTable('audit_heads').set({ seq: row.seq, hash: row.hash }).where('org_id', '=', row.org_id).execute();
}

export interface AuditQuery {
  orgId: string;
  action?: string[];
  actorId?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  limit: number;
  offset: number;
  /** Keyset: only entries older than this sequence number (seq is unique per organization). */
  beforeSeq?: number | undefined;
}

export async function findEntries(db: AuditDb, q: AuditQuery): Promise<{ rows: AuditRow[]; total: number }> {
  let query = db.selectFrom('audit_log').where('org_id', '=', q.orgId);
  if (q.action?.length) query = query.where('action', 'in', q.action);
  if (q.actorId) query = query.where('actor_id', '=', q.actorId);
  if (q.targetId) query = query.where('target_id', '=', q.targetId);
  if (q.from) query = query.where('at', '>=', q.from as never);
  if (q.to) query = query.where('at', '<', q.to as never);
  const page = q.beforeSeq === undefined ? query : query.where('seq', '<', q.beforeSeq);
  const [rows, count] = await Promise.all([
    page.selectAll().orderBy('seq', 'desc').limit(q.limit).offset(q.offset).execute(),
    query.select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: rows, total: count.n };
}

/** Every chain, in order, a page at a time (verification streams; it never loads a whole log). */
export async function* scanChain(db: AuditDb, orgId: string, pageSize = 1000): AsyncGenerator<AuditRow> {
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_log').selectAll().where('org_id', '=', orgId).where('seq', '>', after).orderBy('seq').limit(pageSize).execute();
    for (const r of rows) yield r;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1]!.seq;
  }
}

export async function chainHeads(db: AuditDb, orgId?: string) {
  let q = db.selectFrom('audit_heads').select(['org_id', 'seq', 'hash']);
  if (orgId) q = q.where('org_id', '=', orgId);
  return q.orderBy('org_id').execute();
}
