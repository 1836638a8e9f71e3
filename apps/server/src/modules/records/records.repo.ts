import { CompiledQuery, type Kysely, type RawBuilder, sql } from 'kysely';
import { ident, quoteIdent } from '../../platform/db/index.js';
import { newId } from '../../platform/ids.js';
import type { FieldDef, ModelDef, OrgModels } from '../schema/index.js';
import type { SortKey } from './list-query.js';
import { afterCursor, cursorColumnsOf, pageOrderOf, sortColumnsOf } from './list-query.js';

/**
 * The records' SQL, and nothing else: no actor, no validation, no events (records.store.ts decides
 * those). Every function takes the executor to run on — the pool, or the caller's transaction.
 * Identifiers are quoted by the one quoting function (platform/db/identifiers.ts).
 */
export type Exec = Kysely<object>;
export type Row = Record<string, unknown>;

export const tableOf = (models: OrgModels, name: string) => ident(models.schema, name);

/**
 * The columns a record is read from: system columns and fields, never the embedding columns (a
 * 1,536-dimension vector per row is not what a list pays for). Built once per model definition.
 */
const columnLists = new WeakMap<ModelDef, Map<string, string>>();
export function columnsText(model: ModelDef, alias = '', micros = true): string {
  let byAlias = columnLists.get(model);
  if (!byAlias) columnLists.set(model, (byAlias = new Map<string, string>()));
  const key = `${alias}:${micros}`;
  let text = byAlias.get(key);
  if (text === undefined) {
    const p = alias ? `${quoteIdent(alias)}.` : '';
    text = ['id', 'created_at', 'updated_at', 'created_by', 'updated_by', ...model.fields.map((f) => f.name)].map((c) => p + quoteIdent(c)).join(', ');
    if (micros) text += `, ${microsColumnsText(alias)}`;
    byAlias.set(key, text);
  }
  return text;
}

/**
 * The timestamps as the API shows them, to the microsecond PostgreSQL keeps (a JS Date keeps
 * milliseconds): updatedAt is a record's version, its ETag, and must tell any two writes apart.
 */
export const microsColumnsText = (alias = '') => {
  const p = alias ? `${quoteIdent(alias)}.` : '';
  return `${microsText(`${p}created_at`)} as _created_us, ${microsText(`${p}updated_at`)} as _updated_us`;
};
export const columnsOf = (model: ModelDef, alias?: string) => sql.raw(columnsText(model, alias));
export const microsText = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const MICROS_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/**
 * The If-Match condition of a record write: its updated_at is one of the expected versions
 * (updatedAt values). Tags that are no timestamp can match nothing.
 */
function versionIs(alias: string, expected: readonly string[]): RawBuilder<boolean> {
  const tags = expected.filter((t) => MICROS_ISO.test(t));
  return tags.length ? sql<boolean>`${ident(alias, 'updated_at')} = any(${sql.val(tags)}::timestamptz[])` : sql<boolean>`false`;
}

/** A value as a bound parameter for its column (JSON is sent as text: pg would make a JS array a Postgres array). */
export function param(f: FieldDef, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (f.type === 'json') return JSON.stringify(v);
  return v;
}

/**
 * One multi-row INSERT; `ids` gives explicit ids (upsert by id), otherwise new UUID v7s.
 * NB: the SQL text is built directly (identifiers from the model definition, every value a bind
 * parameter): composing 1,000 rows × fields as Kysely template fragments cost a third of a bulk
 * insert.
 */
export function insertSql(models: OrgModels, model: ModelDef, rows: Row[], who: string, ids?: string[], returning = true) {
  const cols = model.fields.filter((f) => rows.some((r) => r[f.name] !== undefined));
  const params: unknown[] = [who];
  const tuples = rows.map((r, i) => {
    params.push(ids?.[i] ?? newId());
    let t = `($${params.length}::uuid, $1, $1`;
    for (const f of cols) {
      const v = r[f.name];
      if (v === undefined) t += ', default';
      else {
        params.push(param(f, v));
        t += `, $${params.length}`;
      }
    }
    return `${t})`;
  });
  const head = `insert into ${quoteIdent(models.schema)}.${quoteIdent(model.name)} (id, created_by, updated_by${cols.map((f) => `, ${quoteIdent(f.name)}`).join('')})`;
  return CompiledQuery.raw(`${head} values ${tuples.join(', ')}${returning ? ` returning ${columnsText(model)}` : ''}`, params) as CompiledQuery<Row>;
}

export async function insertRows(exec: Exec, models: OrgModels, model: ModelDef, rows: Row[], who: string, ids?: string[], returning = true) {
  return exec.executeQuery(insertSql(models, model, rows, who, ids, returning));
}

/** The prefix under which updateRow returns the row as it was before the update. */
const BEFORE = 'b$';

/**
 * Updates one record and returns it before and after, in one statement: the row is locked by the
 * inner select (so `before` is the version the update replaced) and written by the outer update.
 * `replace` sets absent fields back to their default; with `expected` (If-Match) only a record
 * still at one of those versions is written.
 * NB: the version check is part of the UPDATE itself: a concurrent writer holding the row makes
 * this one wait, and PostgreSQL then re-checks the condition against the row it wrote.
 */
export async function updateRow(
  exec: Exec,
  models: OrgModels,
  model: ModelDef,
  change: { id: string; values: Row; who: string; replace: boolean; expected?: readonly string[] | undefined },
): Promise<{ before: Row; after: Row } | undefined> {
  const sets = model.fields
    .filter((f) => change.replace || change.values[f.name] !== undefined)
    .map((f) => {
      const v = change.values[f.name];
      if (v === undefined) return sql`${ident(f.name)} = default`;
      return sql`${ident(f.name)} = ${param(f, v)}`;
    });
  sets.push(sql`updated_at = now()`, sql`updated_by = ${change.who}`);
  const condition = change.expected ? sql` and ${versionIs('t', change.expected)}` : sql``;
  const beforeCols = ['id', 'created_at', 'updated_at', 'created_by', 'updated_by', ...model.fields.map((f) => f.name), '_created_us', '_updated_us'];
  const r = await sql<Row>`
    update ${tableOf(models, model.name)} t set ${sql.join(sets)}
    from (select ${columnsOf(model)} from ${tableOf(models, model.name)} where id = ${change.id}::uuid for update) b
    where t.id = b.id${condition}
    returning ${columnsOf(model, 't')}, ${sql.raw(beforeCols.map((c) => `b.${quoteIdent(c)} as ${quoteIdent(BEFORE + c)}`).join(', '))}`.execute(exec);
  const row = r.rows[0];
  if (!row) return undefined;
  const before: Row = {};
  const after: Row = {};
  for (const [k, v] of Object.entries(row)) {
    if (k.startsWith(BEFORE)) before[k.slice(BEFORE.length)] = v;
    else after[k] = v;
  }
  return { before, after };
}

/** A record's version (its updatedAt to the microsecond), or undefined when there is none. */
export async function versionOf(exec: Exec, models: OrgModels, model: ModelDef, id: string): Promise<string | undefined> {
  const r = await sql<{ v: string }>`select ${sql.raw(microsText('updated_at'))} as v from ${tableOf(models, model.name)} where id = ${id}::uuid`.execute(exec);
  return r.rows[0]?.v;
}

/** Deletes records by id (with `expected`, only one still at one of those versions) and returns them as they were. */
export async function deleteRows(exec: Exec, models: OrgModels, model: ModelDef, ids: string[], expected?: readonly string[]): Promise<Row[]> {
  const condition = expected ? sql` and ${versionIs('t', expected)}` : sql``;
  const r =
    await sql<Row>`delete from ${tableOf(models, model.name)} t where t.id = any(${sql.val(ids)}::uuid[])${condition} returning ${columnsOf(model, 't')}`.execute(
      exec,
    );
  return r.rows;
}

/** The ids among `ids` that exist, locked until the transaction ends (nothing can start pointing at them meanwhile). */
export async function lockRows(exec: Exec, models: OrgModels, model: ModelDef, ids: string[]): Promise<string[]> {
  const r = await sql<{ id: string }>`select id from ${tableOf(models, model.name)} where id = any(${sql.val(ids)}::uuid[]) for update`.execute(exec);
  return r.rows.map((x) => x.id);
}

/** The records of `source` whose relation `field` points at one of `parents`, locked, as they are. */
export async function referencing(exec: Exec, models: OrgModels, source: ModelDef, field: string, parents: string[]): Promise<Row[]> {
  const r = await sql<Row>`
    select ${columnsOf(source, 't')} from ${tableOf(models, source.name)} t
    where ${ident('t', field)} = any(${sql.val(parents)}::uuid[]) order by t.id for update`.execute(exec);
  return r.rows;
}

/** The id of the record whose `key` (id or a unique field) has this value, locked for the write that follows. */
export async function idByKey(exec: Exec, models: OrgModels, model: ModelDef, key: string, value: unknown): Promise<string | undefined> {
  const r = await sql<{ id: string }>`select id from ${tableOf(models, model.name)} where ${ident(key)} = ${value} for update`.execute(exec);
  return r.rows[0]?.id;
}

/** Which of these values of a unique field are taken already. */
export async function takenValues(exec: Exec, models: OrgModels, model: ModelDef, field: string, values: unknown[]): Promise<unknown[]> {
  const r = await sql<{ v: unknown }>`select ${ident(field)} as v from ${tableOf(models, model.name)} where ${ident(field)} = any(${sql.val(values)})`.execute(
    exec,
  );
  return r.rows.map((x) => x.v);
}

export async function selectById(exec: Exec, models: OrgModels, model: ModelDef, id: string): Promise<Row | undefined> {
  const r = await sql<Row>`select ${columnsOf(model)} from ${tableOf(models, model.name)} where id = ${id}::uuid`.execute(exec);
  return r.rows[0];
}

export async function selectByIds(exec: Exec, models: OrgModels, model: ModelDef, ids: string[]): Promise<Row[]> {
  const r = await sql<Row>`select ${columnsOf(model)} from ${tableOf(models, model.name)} where id = any(${sql.val(ids)}::uuid[])`.execute(exec);
  return r.rows;
}

/** Up to `limit` records of `source` per parent, pointing at `parents` through `field` (oldest first). */
export async function childrenOf(exec: Exec, models: OrgModels, source: ModelDef, field: string, parents: string[], limit: number): Promise<Row[]> {
  const r = await sql<Row>`
    select * from (
      select ${columnsOf(source, 'c')}, row_number() over (partition by ${ident('c', field)} order by c.created_at, c.id) as _rn
      from ${tableOf(models, source.name)} c where ${ident('c', field)} = any(${sql.val(parents)}::uuid[])
    ) x where _rn <= ${limit}`.execute(exec);
  return r.rows;
}

const orderBy = (alias: string, sort: SortKey[]) => sql.join(sort.map((k) => sql`${ident(alias, k.column)} ${sql.raw(k.desc ? 'desc' : 'asc')}`));

/**
 * One page of a list: `limit + 1` rows (the extra one tells whether there is more), each with its
 * sort columns as exact text for the next cursor.
 * NB: that text and the microsecond timestamps are made outside the sorted, limited page (p), for
 * its rows only: in the same select list PostgreSQL computes them for every row that goes into the
 * sort, which made a filtered, sorted list of a large table ~3× slower.
 */
export async function listPage(
  exec: Exec,
  models: OrgModels,
  model: ModelDef,
  q: { where: RawBuilder<boolean>; sort: SortKey[]; cursor?: (string | null)[] | undefined; limit: number; offset: number },
): Promise<Row[]> {
  const keyset = q.cursor ? afterCursor('t', q.sort, q.cursor) : sql<boolean>`true`;
  const r = await sql<Row>`
    select p.*, ${sql.raw(microsColumnsText('p'))}, ${cursorColumnsOf('p', q.sort, true)} from (
      select ${sql.raw(columnsText(model, 't', false))}, ${sortColumnsOf('t', q.sort)} from ${tableOf(models, model.name)} t where ${q.where} and ${keyset}
      order by ${orderBy('t', q.sort)} limit ${q.limit + 1} offset ${q.offset}
    ) p order by ${pageOrderOf('p', q.sort)}`.execute(exec);
  return r.rows;
}

export async function countWhere(exec: Exec, models: OrgModels, model: ModelDef, where: RawBuilder<boolean>): Promise<number> {
  const c = await sql<{ n: number }>`select count(*)::int as n from ${tableOf(models, model.name)} t where ${where}`.execute(exec);
  return c.rows[0]?.n ?? 0;
}

/** Records by filter and sort with limit and offset (no cursor, no count): the query of flows and actions. */
export async function queryRows(
  exec: Exec,
  models: OrgModels,
  model: ModelDef,
  q: { where: RawBuilder<boolean>; sort: SortKey[]; limit: number; offset: number },
): Promise<Row[]> {
  const r = await sql<Row>`
    select ${columnsOf(model, 't')} from ${tableOf(models, model.name)} t where ${q.where}
    order by ${orderBy('t', q.sort)} limit ${q.limit} offset ${q.offset}`.execute(exec);
  return r.rows;
}

/** Whether a row (system columns and fields by column name) passes a compiled filter, as a row of the model's table type. */
/**
 * For each row (in order), which of the conditions hold: one statement for every row and condition
 * (realtime evaluates all distinct filters of one event at once). Rows are rebuilt as in rowMatches.
 */
export async function rowsMatchEach(exec: Exec, models: OrgModels, model: ModelDef, rows: Row[], wheres: RawBuilder<boolean>[]): Promise<boolean[][]> {
  const cols = wheres.map((w, i) => sql`coalesce((${w}), false) as ${sql.ref(`m${i}`)}`);
  const r = await sql<
    Record<string, unknown>
  >`select t.ordinality as n, ${sql.join(cols)} from jsonb_populate_recordset(null::${tableOf(models, model.name)}, ${JSON.stringify(rows)}::jsonb) with ordinality t order by t.ordinality`.execute(
    exec,
  );
  return r.rows.map((row) => wheres.map((_, i) => row[`m${i}`] === true));
}

export async function rowMatches(exec: Exec, models: OrgModels, model: ModelDef, row: Row, where: RawBuilder<boolean>): Promise<boolean> {
  const r = await sql<{
    ok: boolean;
  }>`select exists(select 1 from jsonb_populate_record(null::${tableOf(models, model.name)}, ${JSON.stringify(row)}::jsonb) t where ${where}) as ok`.execute(
    exec,
  );
  return r.rows[0]?.ok === true;
}
