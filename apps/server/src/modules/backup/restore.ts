import { type Transaction, sql } from 'kysely';
import type { Database } from '../../platform/db/index.js';
import { type ModelShape, createForLoad, finishRelations } from '../schema/index.js';
import { type TableMeta, isHeader, isTable, isTrailer, readLines, verifyArchive } from './archive.js';
import { backupErrors } from './backup.errors.js';
import { type Column, columnsOf } from './catalog.js';

export interface RestoreOptions {
  file: string;
  onProgress?: (done: number, total: number) => void;
}

export interface RestoreReport {
  scope: { orgId: string | null };
  organizations: number;
  tables: number;
  rows: number;
  source: { kind: string; vector: boolean };
}

const BATCH = 500;

/**
 * Restores an archive: the whole file is verified first (checksum, row counts, format) and the
 * target checked (empty instance, or the organization absent); then everything is written in one
 * transaction, so a failure leaves the target as it was. Model tables are rebuilt from their
 * definitions with the target's own DDL (vector columns become real[] without pgvector).
 */
export async function restoreBackup(db: Database, o: RestoreOptions): Promise<RestoreReport> {
  const verified = await verifyArchive(o.file);
  const { header } = verified;
  const applied = new Set((await sql<{ name: string }>`select name from infinity_migrations`.execute(db.kysely)).rows.map((r) => r.name));
  const unknown = header.migrations.filter((m) => !applied.has(m));
  if (unknown.length)
    throw backupErrors.BACKUP_VERSION_UNSUPPORTED(
      `The archive comes from a newer Infinity (migrations ${unknown.join(', ')} are unknown here). Upgrade this instance first.`,
    );
  const orgId = header.scope.orgId;
  if (orgId) {
    const exists = await sql`select 1 from organizations where id = ${orgId}`.execute(db.kysely);
    if (exists.rows.length)
      throw backupErrors.BACKUP_TARGET_NOT_EMPTY(`Organization ${orgId} exists on this instance already; delete it first or restore into another instance.`);
  } else {
    const used = await sql<{ n: string }>`select (select count(*) from organizations) + (select count(*) from users) as n`.execute(db.kysely);
    if (Number(used.rows[0]?.n ?? 0) > 0)
      throw backupErrors.BACKUP_TARGET_NOT_EMPTY(
        'A whole-instance restore needs an empty database (no users, no organizations): point it at a fresh data folder or database.',
      );
  }
  const total = verified.trailer.rows;
  return db.kysely.transaction().execute(async (trx) => {
    const load = new Loader(trx, { wholeInstance: !orgId, vector: db.info.vector });
    let done = 0;
    o.onProgress?.(0, total);
    for await (const { text, value } of readLines(o.file)) {
      if (isHeader(value) || isTrailer(value)) continue;
      if (isTable(value)) {
        await load.flush();
        await load.startTable(value);
        continue;
      }
      load.push(text);
      if (load.pending >= BATCH) {
        done += await load.flush();
        o.onProgress?.(done, total);
      }
    }
    done += await load.flush();
    await load.finish();
    o.onProgress?.(done, total);
    return { scope: header.scope, organizations: load.organizations, tables: verified.tables.length, rows: done, source: header.source };
  });
}

class Loader {
  private table: TableMeta | undefined;
  private columns: Column[] = [];
  private rows: string[] = [];
  private readonly built = new Map<string, { schema: string; models: ModelShape[] }>();
  private readonly identities: { schema: string; name: string; column: string }[] = [];
  organizations = 0;

  constructor(
    private readonly trx: Transaction<object>,
    private readonly o: { wholeInstance: boolean; vector: boolean },
  ) {}

  get pending(): number {
    return this.rows.length;
  }

  async startTable(t: TableMeta): Promise<void> {
    if (this.table?.schema === 'public' && this.table.name === 'organizations') await this.createSchemas();
    this.table = t;
    if (t.schema !== 'public') await this.buildModels(t);
    this.columns = await columnsOf(this.trx, t.schema, t.name);
    if (!this.columns.length) throw backupErrors.BACKUP_ARCHIVE_INVALID(`The archive holds table ${t.schema}.${t.name}, which this instance does not have.`);
  }

  push(text: string): void {
    this.rows.push(text);
  }

  /** Inserts the buffered rows of the current table with one statement; returns how many. */
  async flush(): Promise<number> {
    const t = this.table;
    if (!t || !this.rows.length) return 0;
    const keys = new Set(Object.keys(JSON.parse(this.rows[0]!) as object));
    const missing = [...keys].filter((k) => !this.columns.some((c) => c.name === k));
    if (missing.length)
      throw backupErrors.BACKUP_ARCHIVE_INVALID(
        `Table ${t.schema}.${t.name} here has no column ${missing.join(', ')}: the archive comes from a different schema.`,
      );
    // Identity columns keep their values in a whole-instance restore (and the sequence moves past
    // them); restoring one organization into a live instance lets the target number them.
    const cols = this.columns.filter((c) => !c.generated && keys.has(c.name) && (!c.identity || this.o.wholeInstance));
    const list = sql.join(cols.map((c) => sql.id(c.name)));
    const target = sql.id(t.schema, t.name);
    const overriding = this.o.wholeInstance && cols.some((c) => c.identity) ? sql`overriding system value` : sql``;
    const conflict = !this.o.wholeInstance && t.schema === 'public' && t.name === 'users' ? sql`on conflict (id) do nothing` : sql``;
    await sql`insert into ${target} (${list}) ${overriding} select ${list} from json_populate_recordset(null::${target}, ${`[${this.rows.join(',')}]`}::json) ${conflict}`.execute(
      this.trx,
    );
    for (const c of cols)
      if (c.identity && !this.identities.some((i) => i.schema === t.schema && i.name === t.name))
        this.identities.push({ schema: t.schema, name: t.name, column: c.name });
    if (t.schema === 'public' && t.name === 'organizations') this.organizations += this.rows.length;
    const n = this.rows.length;
    this.rows = [];
    return n;
  }

  /** Each organization's schema, as sign-up creates it. */
  private async createSchemas(): Promise<void> {
    const r = await sql<{ schema_name: string }>`select schema_name from organizations`.execute(this.trx);
    for (const o of r.rows) await sql`create schema if not exists ${sql.id(o.schema_name)}`.execute(this.trx);
  }

  /** The first model table of an organization builds all its model tables (relations come at the end). */
  private async buildModels(t: TableMeta): Promise<void> {
    if (!t.orgId || this.built.has(t.orgId)) return;
    const org = await sql<{ schema_name: string }>`select schema_name from organizations where id = ${t.orgId}`.execute(this.trx);
    const schema = org.rows[0]?.schema_name;
    if (!schema || schema !== t.schema) throw backupErrors.BACKUP_ARCHIVE_INVALID(`Table ${t.schema}.${t.name} belongs to no organization of the archive.`);
    await sql`create schema if not exists ${sql.id(schema)}`.execute(this.trx);
    const models = (await sql<ModelShape>`select name, fields, embedding from models where org_id = ${t.orgId} order by name`.execute(this.trx)).rows;
    await createForLoad(this.trx, schema, models, this.o.vector);
    this.built.set(t.orgId, { schema, models });
  }

  async finish(): Promise<void> {
    if (this.table?.schema === 'public' && this.table.name === 'organizations') await this.createSchemas();
    for (const { schema, models } of this.built.values()) await finishRelations(this.trx, schema, models);
    for (const i of this.identities) {
      await sql`select setval(pg_get_serial_sequence(${`${quote(i.schema)}.${quote(i.name)}`}, ${i.column}), coalesce((select max(${sql.id(i.column)}) from ${sql.id(i.schema, i.name)}), 0) + 1, false)`.execute(
        this.trx,
      );
    }
  }
}

const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;
