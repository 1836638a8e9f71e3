import { type Transaction, sql } from 'kysely';
import type { Database } from '../../platform/db/index.js';
import { ArchiveWriter } from './archive.js';
import { backupErrors } from './backup.errors.js';
import { type Column, columnsOf, orgScope, systemTables } from './catalog.js';

export interface BackupOptions {
  out: string;
  /** One organization (with its members' accounts); omitted = the whole instance. */
  orgId?: string | undefined;
  infinityVersion: string;
  onProgress?: (done: number, total: number) => void;
}

export interface BackupReport {
  file: string;
  tables: number;
  rows: number;
  sha256: string;
}

const FETCH = 1000;

/** The select list of a table: generated columns are left out (the target computes them), vectors travel as arrays. */
function selectList(columns: Column[]) {
  return sql.join(
    columns.filter((c) => !c.generated).map((c) => (c.type === 'vector' ? sql`${sql.ref(c.name)}::real[] as ${sql.id(c.name)}` : sql.ref(c.name))),
  );
}

interface Part {
  schema: string;
  name: string;
  orgId?: string;
  columns: Column[];
  where: ReturnType<typeof sql> | null;
  rows: number;
}

/**
 * Writes a consistent snapshot: every read happens in one repeatable-read, read-only transaction.
 * Secrets stay as they are stored (encrypted; their data keys wrapped by the master key).
 * NB: on the embedded database this transaction holds its only connection until the end.
 */
export async function createBackup(db: Database, o: BackupOptions): Promise<BackupReport> {
  const writer = new ArchiveWriter(o.out);
  try {
    const report = await db.kysely
      .transaction()
      .setIsolationLevel('repeatable read')
      .execute(async (trx) => {
        await sql`set transaction read only`.execute(trx);
        return dump(trx, db, writer, o);
      });
    return report;
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

async function dump(trx: Transaction<object>, db: Database, writer: ArchiveWriter, o: BackupOptions): Promise<BackupReport> {
  if (o.orgId) {
    const found = await sql`select 1 from organizations where id = ${o.orgId}`.execute(trx);
    if (!found.rows.length) throw backupErrors.BACKUP_ORG_NOT_FOUND(`No organization ${o.orgId} on this instance.`);
  }
  const parts: Part[] = [];
  for (const name of await systemTables(trx)) {
    const columns = await columnsOf(trx, 'public', name);
    parts.push({ schema: 'public', name, columns, where: o.orgId ? orgScope(name, columns, o.orgId) : null, rows: 0 });
  }
  const orgs = (
    await sql<{
      id: string;
      schema_name: string;
    }>`select id, schema_name from organizations ${o.orgId ? sql`where id = ${o.orgId}` : sql``} order by id`.execute(trx)
  ).rows;
  for (const org of orgs) {
    const models = (await sql<{ name: string }>`select name from models where org_id = ${org.id} order by name`.execute(trx)).rows;
    for (const m of models)
      parts.push({ schema: org.schema_name, name: m.name, orgId: org.id, columns: await columnsOf(trx, org.schema_name, m.name), where: null, rows: 0 });
  }
  let total = 0;
  for (const p of parts) {
    const r = await sql<{ n: string }>`select count(*) as n from ${sql.id(p.schema, p.name)} ${p.where ? sql`where ${p.where}` : sql``}`.execute(trx);
    p.rows = Number(r.rows[0]?.n ?? 0);
    total += p.rows;
  }
  const migrations = (await sql<{ name: string }>`select name from infinity_migrations order by name`.execute(trx)).rows.map((r) => r.name);
  await writer.header({
    createdAt: new Date().toISOString(),
    infinity: o.infinityVersion,
    source: { kind: db.kind, vector: db.info.vector },
    scope: { orgId: o.orgId ?? null },
    migrations,
  });
  let done = 0;
  o.onProgress?.(0, total);
  for (const p of parts) {
    await writer.table({ schema: p.schema, name: p.name, ...(p.orgId ? { orgId: p.orgId } : {}), rows: p.rows });
    if (!p.rows) continue;
    const order = p.columns.some((c) => c.name === 'id') ? sql`order by id` : sql``;
    await sql`declare infinity_backup no scroll cursor for select row_to_json(x)::text as j from (select ${selectList(p.columns)} from ${sql.id(p.schema, p.name)} ${p.where ? sql`where ${p.where}` : sql``} ${order}) x`.execute(
      trx,
    );
    for (;;) {
      const batch = await sql<{ j: string }>`fetch ${sql.raw(String(FETCH))} from infinity_backup`.execute(trx);
      for (const row of batch.rows) await writer.row(row.j);
      done += batch.rows.length;
      o.onProgress?.(done, total);
      if (batch.rows.length < FETCH) break;
    }
    await sql`close infinity_backup`.execute(trx);
  }
  const end = await writer.finish();
  return { file: o.out, ...end };
}
