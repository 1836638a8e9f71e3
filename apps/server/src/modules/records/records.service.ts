import { CompiledQuery, type Kysely, type QueryExecutorProvider, type RawBuilder, type Transaction, sql } from 'kysely';
import type { QuotaGate } from '../usage/index.js';
import { inTransaction, pgErrorCode } from '../../platform/db/index.js';
import type { EventBus } from '../../platform/events/index.js';
import { type Expected, preconditionFailed } from '../../platform/concurrency.js';
import { AppError, commonErrors } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { type OrgActor, actorLabel, actorRef } from '../access/index.js';
import { type FieldDef, type ModelCache, type ModelDef, type OrgModels, inverseRelations, schemaErrors } from '../schema/index.js';
import { compileFilter, parseFilter } from './filter.js';
import { type ListQuery, afterCursor, cursorColumnsOf, encodeCursor, pageOrderOf, parseSort, sortColumnsOf } from './list-query.js';
import { recordErrors } from './records.errors.js';
import type { SearchWidths } from './search-width.js';
import { issuesOf, recordSchemas } from './validate.js';

export interface RecordsContext {
  db: Kysely<object>;
  cache: ModelCache;
  events: EventBus;
  /** pgvector is installed (vector columns, HNSW); otherwise embeddings are real[] scanned exactly. */
  vector?: boolean;
  /** Embeds a search text with the model's embedding settings (wired to the AI module). */
  embedQuery?: (actor: OrgActor, model: ModelDef, text: string) => Promise<number[]>;
  /** The plan's record and storage limits. */
  quota: QuotaGate;
  /** Per-model HNSW search widths measured on the model's own queries (search-width.ts). */
  widths?: SearchWidths;
}

/** Refuses writes that would pass the plan's record count, or any once storage is used up. */
async function checkRoom(ctx: RecordsContext, orgId: string, adding: number): Promise<void> {
  await ctx.quota.check(orgId, 'storageMb', 0);
  await ctx.quota.check(orgId, 'records', adding);
}

/** record.created | record.updated | record.deleted, published after commit (never for a rollback). */
function publish(
  ctx: RecordsContext,
  actor: OrgActor,
  type: 'record.created' | 'record.updated' | 'record.deleted',
  model: string,
  record: ApiRecord,
  changed?: string[],
) {
  // Interim (#26, slice "consumers"): the typed catalogue shape, until the records store emits it in the write's transaction.
  const base = {
    orgId: actor.orgId,
    permission: 'records:read' as const,
    model,
    recordId: String(record.id),
    actor: { type: actor.kind, id: actorLabel(actor).id },
  };
  const r = record as { id: string } & ApiRecord;
  if (type === 'record.created') ctx.events.publish({ type, ...base, after: r });
  else if (type === 'record.updated') ctx.events.publish({ type, ...base, after: r, changed: changed ?? [] });
  else ctx.events.publish({ type, ...base, before: r });
}

export type ApiRecord = Record<string, unknown>;
const EXPAND_MANY_LIMIT = 50;

export async function requireModel(ctx: RecordsContext, actor: OrgActor, name: string): Promise<{ model: ModelDef; models: OrgModels }> {
  const models = await ctx.cache.get(actor.orgId);
  const model = models.byName.get(name);
  if (!model) throw schemaErrors.MODEL_NOT_FOUND(`No model "${name.slice(0, 100)}" in this organization.`);
  return { model, models };
}

const schemasByVersion = new Map<string, ReturnType<typeof recordSchemas>>();
function schemasOf(model: ModelDef) {
  const key = `${model.id}:${model.version}`;
  let s = schemasByVersion.get(key);
  if (!s) {
    if (schemasByVersion.size > 5000) schemasByVersion.clear();
    s = recordSchemas(model.fields);
    schemasByVersion.set(key, s);
  }
  return s;
}

function validate(model: ModelDef, body: unknown, mode: 'full' | 'partial', prefix = ''): Record<string, unknown> {
  const r = schemasOf(model)[mode].safeParse(body);
  if (!r.success) {
    const details = issuesOf(r.error, body, prefix);
    // A field the model does not have is a malformed request (400); values that break a field's rules are 422.
    const unknown = details.filter((d) => d.code === 'unknown_field');
    if (unknown.length) throw commonErrors.VALIDATION_FAILED(`Model ${model.name} has no field ${unknown.map((d) => d.field).join(', ')}.`, unknown);
    throw recordErrors.RECORD_INVALID(`${details.length} invalid value(s): ${details[0]?.field} ${details[0]?.message}.`, details);
  }
  return r.data;
}

/** Row from the database → record as the API shows it. */
export function toRecord(model: ModelDef, row: Record<string, unknown>, only?: string[]): ApiRecord {
  const out: ApiRecord = { id: row.id };
  const want = (n: string) => !only || only.includes(n);
  if (want('createdAt') && row.created_at !== undefined) out.createdAt = row._created_us ?? (row.created_at as Date).toISOString();
  if (want('updatedAt') && row.updated_at !== undefined) out.updatedAt = row._updated_us ?? (row.updated_at as Date).toISOString();
  if (want('createdBy') && row.created_by !== undefined) out.createdBy = row.created_by;
  if (want('updatedBy') && row.updated_by !== undefined) out.updatedBy = row.updated_by;
  for (const f of model.fields) {
    if (!want(f.name) || !(f.name in row)) continue;
    const v = row[f.name];
    out[f.name] = v instanceof Date ? v.toISOString() : v;
  }
  return out;
}

/** A value as a bound parameter for its column (JSON is sent as text: pg would make a JS array a Postgres array). */
function param(f: FieldDef, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (f.type === 'json') return JSON.stringify(v);
  return v;
}

const table = (models: OrgModels, name: string) => sql.id(models.schema, name);
const quoteId = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The columns a record is read from: system columns and fields, never the embedding columns (a
 * 1,536-dimension vector per row is not what a list pays for). Built once per model definition.
 */
const columnLists = new WeakMap<ModelDef, Map<string, string>>();
function columnsText(model: ModelDef, alias = '', micros = true): string {
  let byAlias = columnLists.get(model);
  if (!byAlias) columnLists.set(model, (byAlias = new Map<string, string>()));
  const key = `${alias}:${micros}`;
  let text = byAlias.get(key);
  if (text === undefined) {
    const p = alias ? `${alias}.` : '';
    text = ['id', 'created_at', 'updated_at', 'created_by', 'updated_by', ...model.fields.map((f) => f.name)].map((c) => p + quoteId(c)).join(', ');
    if (micros) text += `, ${microsColumnsText(alias)}`;
    byAlias.set(key, text);
  }
  return text;
}
/**
 * The timestamps as the API shows them, to the microsecond PostgreSQL keeps (a JS Date keeps
 * milliseconds): updatedAt is a record's version, its ETag, and must tell any two writes apart.
 */
const microsColumnsText = (alias = '') => {
  const p = alias ? `${alias}.` : '';
  return `${microsText(`${p}created_at`)} as _created_us, ${microsText(`${p}updated_at`)} as _updated_us`;
};
export const columnsOf = (model: ModelDef, alias?: string) => sql.raw(columnsText(model, alias));
const microsText = (column: string) => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
const MICROS_ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/**
 * The If-Match condition of a record write: its updated_at is one of the expected versions
 * (updatedAt values). Tags that are no timestamp can match nothing.
 */
function versionIs(expected: readonly string[]): RawBuilder<boolean> {
  const tags = expected.filter((t) => MICROS_ISO.test(t));
  return tags.length ? sql<boolean>`updated_at = any(${sql.val(tags)}::timestamptz[])` : sql<boolean>`false`;
}

/** Why a conditional write changed nothing: the record is gone (404), or it has another version (412). */
async function refuseStale(exec: Kysely<object>, models: OrgModels, model: ModelDef, id: string): Promise<never> {
  const r = await sql<{ v: string }>`select ${sql.raw(microsText('updated_at'))} as v from ${table(models, model.name)} where id = ${id}::uuid`.execute(exec);
  const current = r.rows[0]?.v;
  if (current === undefined) throw recordErrors.RECORD_NOT_FOUND();
  throw preconditionFailed('record', current);
}

/** Maps constraint errors to answers that name the field or relation; anything else is rethrown. */
export function explain(model: ModelDef, models: OrgModels, err: unknown, index?: number): never {
  const e = err as { code?: string; detail?: string; table?: string; constraint?: string };
  const at = index === undefined ? {} : { index };
  switch (pgErrorCode(err)) {
    case '23505': {
      const field = /Key \(([^)]+)\)=/.exec(e.detail ?? '')?.[1] ?? 'unknown';
      throw recordErrors.RECORD_UNIQUE_VIOLATION(`Another ${model.name} record already has this ${field}.`, [
        { ...at, field, code: 'unique', message: 'already taken' },
      ]);
    }
    // PostgreSQL 18 reports ON DELETE RESTRICT as 23001 ("is referenced from"); 15 as 23503 ("is still referenced").
    case '23001':
    case '23503': {
      if (pgErrorCode(err) === '23001' || /is (still )?referenced from/.test(e.detail ?? '')) {
        const from = e.table ?? '';
        const fk = models.byName.get(from)?.fields.find((f) => f.type === 'relation' && f.target === model.name);
        const relation = fk ? `${from}.${fk.name}` : from;
        throw recordErrors.RECORD_DELETE_RESTRICTED(
          `Records of ${from} still point at this ${model.name} through ${relation} (onDelete: restrict). Delete or reassign them first.`,
          [{ ...at, relation, code: 'restrict' }],
        );
      }
      const field = /Key \(([^)]+)\)=/.exec(e.detail ?? '')?.[1] ?? 'unknown';
      const target = model.fields.find((f) => f.name === field);
      throw recordErrors.RECORD_RELATION_INVALID(`${field} names no existing ${target?.type === 'relation' ? target.target : ''} record.`, [
        { ...at, field, code: 'relation_missing', message: 'no such record' },
      ]);
    }
    case '23514':
    case '23502':
      throw recordErrors.RECORD_INVALID('A value breaks a constraint of the model.', [
        { ...at, field: e.constraint ?? 'unknown', code: 'constraint', message: 'violates the model’s constraints' },
      ]);
    case '42703':
    case '42P01':
      throw recordErrors.QUERY_INVALID('The model changed during this request; retry.');
    default:
      throw err;
  }
}

export function whereFor(model: ModelDef, models: OrgModels, q: Pick<ListQuery, 'filter' | 'q'>): RawBuilder<boolean> {
  const parts: RawBuilder<boolean>[] = [];
  if (q.filter) parts.push(compileFilter({ model, models }, 't', q.filter));
  if (q.q) {
    const texts = model.fields.filter((f) => f.type === 'string' || f.type === 'text' || f.type === 'enum');
    if (!texts.length) throw recordErrors.QUERY_INVALID(`Model ${model.name} has no text fields to search with q.`);
    const doc = sql`concat_ws(' ', ${sql.join(texts.map((f) => sql.ref(`t.${f.name}`)))})`;
    parts.push(
      sql<boolean>`(to_tsvector('simple', ${doc}) @@ plainto_tsquery('simple', ${q.q}) or ${doc} ilike ${`%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`})`,
    );
  }
  return parts.length ? sql<boolean>`${sql.join(parts, sql` and `)}` : sql<boolean>`true`;
}

/**
 * Whether a record (as the API shows it, e.g. from an event) matches a filter, decided by the
 * same SQL compiler as the list API (relations included): the record is turned back into a row of
 * the model's table type in SQL, so it works for deleted records too.
 */
export async function recordMatches(ctx: RecordsContext, actor: OrgActor, name: string, filter: unknown, record: ApiRecord): Promise<boolean> {
  const { model, models } = await requireModel(ctx, actor, name);
  const node = parseFilter(filter);
  if (!node) return true;
  const row: Record<string, unknown> = {
    id: record.id,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    created_by: record.createdBy,
    updated_by: record.updatedBy,
  };
  for (const f of model.fields) if (f.name in record) row[f.name] = record[f.name];
  const where = whereFor(model, models, { filter: node, q: undefined });
  const r = await sql<{
    ok: boolean;
  }>`select exists(select 1 from jsonb_populate_record(null::${table(models, name)}, ${JSON.stringify(row)}::jsonb) t where ${where}) as ok`.execute(ctx.db);
  return r.rows[0]?.ok === true;
}

export async function listRecords(ctx: RecordsContext, actor: OrgActor, name: string, q: ListQuery) {
  const { model, models } = await requireModel(ctx, actor, name);
  const where = whereFor(model, models, q);
  const keyset = q.cursor ? afterCursor('t', q.sort, q.cursor.values) : sql<boolean>`true`;
  const order = sql.join(q.sort.map((k) => sql`${sql.ref(`t.${k.column}`)} ${sql.raw(k.desc ? 'desc' : 'asc')}`));
  // The sort columns are also read as exact text: the next cursor carries them at full precision.
  // NB: that text and the microsecond timestamps are made outside the sorted, limited page (p), for
  // its rows only: in the same select list PostgreSQL computes them for every row that goes into the
  // sort, which made a filtered, sorted list of a large table ~3× slower.
  const rows = await sql<Record<string, unknown>>`
    select p.*, ${sql.raw(microsColumnsText('p'))}, ${cursorColumnsOf('p', q.sort, true)} from (
      select ${sql.raw(columnsText(model, 't', false))}, ${sortColumnsOf('t', q.sort)} from ${table(models, name)} t where ${where} and ${keyset}
      order by ${order} limit ${q.limit + 1} offset ${q.offset}
    ) p order by ${pageOrderOf('p', q.sort)}`
    .execute(ctx.db)
    .catch((err: unknown) => {
      // NB: decodeCursor checks every value against its column's type; should a value still fail
      // its cast (class 22, data exception), it is the client's cursor, not a server fault.
      if (q.cursor && pgErrorCode(err)?.startsWith('22')) throw recordErrors.QUERY_INVALID('cursor is not one this API issued; start again without cursor');
      return explain(model, models, err);
    });
  const page = rows.rows.slice(0, q.limit);
  const more = rows.rows.length > q.limit;
  let total: number | null = null;
  if (q.count) {
    const c = await sql<{ n: number }>`select count(*)::int as n from ${table(models, name)} t where ${where}`.execute(ctx.db);
    total = c.rows[0]?.n ?? 0;
  }
  const data = page.map((r) => toRecord(model, r, q.fields));
  if (q.expand.length) await expand(ctx, models, model, page, data, q.expand);
  return { data, total, nextCursor: more && page.length ? encodeCursor(q.sort, page[page.length - 1]!) : null };
}

/** One level of relations: forward ones become the related record, inverse ones a list (at most 50). */
async function expand(ctx: RecordsContext, models: OrgModels, model: ModelDef, rows: Record<string, unknown>[], out: ApiRecord[], names: string[]) {
  const inverse = inverseRelations(models.byName, model.name);
  for (const name of names) {
    const fwd = model.fields.find((f) => f.name === name);
    if (fwd?.type === 'relation') {
      const target = models.byName.get(fwd.target)!;
      const ids = [...new Set(rows.map((r) => r[name]).filter((v): v is string => typeof v === 'string'))];
      const found = ids.length
        ? (
            await sql<Record<string, unknown>>`select ${columnsOf(target)} from ${table(models, target.name)} where id = any(${sql.val(ids)}::uuid[])`.execute(
              ctx.db,
            )
          ).rows
        : [];
      const byId = new Map(found.map((r) => [r.id as string, toRecord(target, r)]));
      out.forEach((rec, i) => {
        const id = rows[i]![name];
        rec[name] = typeof id === 'string' ? (byId.get(id) ?? null) : null;
      });
      continue;
    }
    const inv = inverse.find((i) => i.name === name);
    if (!inv)
      throw recordErrors.QUERY_INVALID(
        `"${name.slice(0, 60)}" is not a relation of ${model.name} (expand takes ${[...model.fields.filter((f) => f.type === 'relation').map((f) => f.name), ...inverse.map((i) => i.name)].join(', ') || 'nothing here'}).`,
      );
    const source = models.byName.get(inv.model)!;
    const ids = rows.map((r) => r.id as string);
    const children = ids.length
      ? (
          await sql<Record<string, unknown>>`
            select * from (
              select ${columnsOf(source, 'c')}, row_number() over (partition by ${sql.ref(`c.${inv.field}`)} order by c.created_at, c.id) as _rn
              from ${table(models, source.name)} c where ${sql.ref(`c.${inv.field}`)} = any(${sql.val(ids)}::uuid[])
            ) x where _rn <= ${EXPAND_MANY_LIMIT}`.execute(ctx.db)
        ).rows
      : [];
    const byParent = new Map<string, ApiRecord[]>();
    for (const c of children) {
      const p = c[inv.field] as string;
      if (!byParent.has(p)) byParent.set(p, []);
      byParent.get(p)!.push(toRecord(source, c));
    }
    out.forEach((rec, i) => {
      const list = byParent.get(ids[i]!) ?? [];
      rec[name] = inv.kind === 'one-to-one' ? (list[0] ?? null) : list;
    });
  }
}

export async function getRecord(ctx: RecordsContext, actor: OrgActor, name: string, id: string, opts: { expand?: string[]; fields?: string[] } = {}) {
  return (await getVersionedRecord(ctx, actor, name, id, opts)).record;
}

/** A record and its version (its updatedAt, whichever fields were asked for): GET answers the version as the ETag. */
export async function getVersionedRecord(ctx: RecordsContext, actor: OrgActor, name: string, id: string, opts: { expand?: string[]; fields?: string[] } = {}) {
  const { model, models } = await requireModel(ctx, actor, name);
  const r = await sql<Record<string, unknown>>`select ${columnsOf(model)} from ${table(models, name)} where id = ${id}::uuid`.execute(ctx.db);
  const row = r.rows[0];
  if (!row) throw recordErrors.RECORD_NOT_FOUND();
  const out = [toRecord(model, row, opts.fields)];
  if (opts.expand?.length) await expand(ctx, models, model, [row], out, opts.expand);
  return { record: out[0]!, version: row._updated_us as string };
}

/**
 * One multi-row INSERT; `ids` gives explicit ids (upsert by id), otherwise new UUID v7s.
 * NB: the SQL text is built directly (identifiers from the model definition, every value a bind
 * parameter): composing 1,000 rows × fields as Kysely template fragments cost a third of a bulk
 * insert.
 */
function insertSql(models: OrgModels, model: ModelDef, rows: Record<string, unknown>[], who: string, ids?: string[], returning = true) {
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
  const head = `insert into ${quoteId(models.schema)}.${quoteId(model.name)} (id, created_by, updated_by${cols.map((f) => `, ${quoteId(f.name)}`).join('')})`;
  return CompiledQuery.raw(`${head} values ${tuples.join(', ')}${returning ? ` returning ${columnsText(model)}` : ''}`, params) as CompiledQuery<
    Record<string, unknown>
  >;
}

export async function createRecord(ctx: RecordsContext, actor: OrgActor, name: string, body: unknown) {
  const { model, models } = await requireModel(ctx, actor, name);
  const values = validate(model, body, 'full');
  await checkRoom(ctx, actor.orgId, 1);
  const r = await ctx.db.executeQuery(insertSql(models, model, [values], actorRef(actor))).catch((err: unknown) => explain(model, models, err));
  ctx.quota.grew(actor.orgId, 'records', 1);
  const record = toRecord(model, r.rows[0]!);
  publish(ctx, actor, 'record.created', name, record);
  return record;
}

async function updateOne(
  exec: Kysely<object> | Transaction<object>,
  models: OrgModels,
  model: ModelDef,
  id: string,
  values: Record<string, unknown>,
  actor: OrgActor,
  replace: boolean,
  expected?: Expected,
) {
  const sets = model.fields
    .filter((f) => replace || values[f.name] !== undefined)
    .map((f) => {
      const v = values[f.name];
      if (v === undefined) return sql`${sql.id(f.name)} = default`;
      return sql`${sql.id(f.name)} = ${param(f, v)}`;
    });
  sets.push(sql`updated_at = now()`, sql`updated_by = ${actorRef(actor)}`);
  // NB: the version check is part of the UPDATE itself: a concurrent writer holding the row makes
  // this one wait, and PostgreSQL then re-checks the condition against the row it wrote.
  const condition = expected ? sql` and ${versionIs(expected)}` : sql``;
  const r = await sql<
    Record<string, unknown>
  >`update ${table(models, model.name)} set ${sql.join(sets)} where id = ${id}::uuid${condition} returning ${columnsOf(model)}`.execute(exec);
  return r.rows[0];
}

/** PUT (replace) or PATCH; with `expected` (If-Match: updatedAt values) only if the record is still at one of them. */
export async function updateRecord(ctx: RecordsContext, actor: OrgActor, name: string, id: string, body: unknown, replace: boolean, expected?: Expected) {
  const { model, models } = await requireModel(ctx, actor, name);
  const values = validate(model, body, replace ? 'full' : 'partial');
  const row = await updateOne(ctx.db, models, model, id, values, actor, replace, expected).catch((err: unknown) => explain(model, models, err));
  if (!row) return refuseStale(ctx.db, models, model, id);
  const record = toRecord(model, row);
  publish(ctx, actor, 'record.updated', name, record, replace ? model.fields.map((f) => f.name) : Object.keys(values));
  return record;
}

export async function deleteRecord(ctx: RecordsContext, actor: OrgActor, name: string, id: string, expected?: Expected) {
  const { model, models } = await requireModel(ctx, actor, name);
  const condition = expected ? sql` and ${versionIs(expected)}` : sql``;
  const r = await sql<Record<string, unknown>>`delete from ${table(models, name)} where id = ${id}::uuid${condition} returning ${columnsOf(model)}`
    .execute(ctx.db)
    .catch((err: unknown) => explain(model, models, err));
  const row = r.rows[0];
  if (!row) return refuseStale(ctx.db, models, model, id);
  ctx.quota.grew(actor.orgId, 'records', -1);
  publish(ctx, actor, 'record.deleted', name, toRecord(model, row));
}

export type BulkOp = 'create' | 'update' | 'upsert' | 'delete';

type ItemProblem = { index: number; field?: string; code: string; message: string };

/** Refuses a whole batch; the message counts refused items (an item may have several problems). */
function refuse(details: ItemProblem[]): never {
  const items = new Set(details.map((d) => d.index)).size;
  throw recordErrors.BULK_INVALID(
    `${items} item(s) refused; nothing was changed. First: item ${details[0]!.index}: ${details[0]!.field ?? ''} ${details[0]!.message}.`,
    details.slice(0, 1000),
  );
}

/**
 * After a bulk create failed on a unique field: which items clash, with each other or with stored
 * records. Runs only on that failure path (the batch was rolled back), so a good batch pays nothing.
 */
async function uniqueClashes(ctx: RecordsContext, models: OrgModels, model: ModelDef, prepared: { values: Record<string, unknown> }[]): Promise<ItemProblem[]> {
  const problems: ItemProblem[] = [];
  for (const f of model.fields) {
    if (!f.unique) continue;
    const firstAt = new Map<string, number>();
    const values: unknown[] = [];
    prepared.forEach((p, index) => {
      const v = p.values[f.name];
      if (v === undefined || v === null) return;
      const k = JSON.stringify(v);
      const first = firstAt.get(k);
      if (first !== undefined) problems.push({ index, field: f.name, code: 'unique', message: `repeats the ${f.name} of item ${first}` });
      else {
        firstAt.set(k, index);
        values.push(param(f, v));
      }
    });
    if (!values.length) continue;
    const taken = await sql<{
      v: unknown;
    }>`select ${sql.ref(f.name)} as v from ${table(models, model.name)} where ${sql.ref(f.name)} = any(${sql.val(values)})`.execute(ctx.db);
    for (const row of taken.rows) {
      const index = firstAt.get(JSON.stringify(row.v instanceof Date ? row.v.toISOString() : row.v));
      if (index !== undefined) problems.push({ index, field: f.name, code: 'unique', message: `another ${model.name} record already has this ${f.name}` });
    }
  }
  return problems.sort((a, b) => a.index - b.index);
}

/** One item of a bulk answer: its position in the request and the record it wrote (upsert: whether it was created). */
export interface BulkItemResult {
  index: number;
  id: string;
  created?: boolean;
}
export interface BulkResult {
  op: BulkOp;
  count: number;
  created: number;
  updated: number;
  items: BulkItemResult[];
}

/**
 * All or nothing: every item is validated first (all problems reported, with their index), then
 * everything is written in one transaction; a constraint refusal rolls the whole batch back.
 */
export async function bulk(ctx: RecordsContext, actor: OrgActor, name: string, op: BulkOp, items: unknown[], key = 'id'): Promise<BulkResult> {
  const { model, models } = await requireModel(ctx, actor, name);
  const problems: ItemProblem[] = [];
  const keyField = key === 'id' ? undefined : model.fields.find((f) => f.name === key);
  if (op === 'upsert' && key !== 'id' && !(keyField && keyField.unique))
    throw recordErrors.QUERY_INVALID(`upsert key "${key.slice(0, 60)}" must be id or a unique field of ${model.name}.`);
  const prepared: { id?: string; values: Record<string, unknown> }[] = items.map((item, index) => {
    if (op === 'delete') {
      if (typeof item !== 'string' || !/^[0-9a-f-]{36}$/i.test(item)) problems.push({ index, code: 'invalid_id', message: 'delete takes record ids' });
      return { id: item as string, values: {} };
    }
    const obj = (typeof item === 'object' && item !== null && !Array.isArray(item) ? item : {}) as Record<string, unknown>;
    const { id, ...rest } = obj;
    if ((op === 'update' || (op === 'upsert' && key === 'id')) && (typeof id !== 'string' || !/^[0-9a-f-]{36}$/i.test(id)))
      problems.push({ index, field: 'id', code: 'required', message: `${op} items need their id` });
    if (op === 'create' && id !== undefined) problems.push({ index, field: 'id', code: 'unknown_field', message: 'ids are assigned by the server' });
    const r = schemasOf(model)[op === 'update' ? 'partial' : 'full'].safeParse(rest);
    if (!r.success) for (const i of issuesOf(r.error, rest)) problems.push({ index, ...i });
    return { ...(typeof id === 'string' ? { id } : {}), values: r.success ? r.data : {} };
  });
  if (problems.length) refuse(problems);
  if (op === 'create' || op === 'upsert') await checkRoom(ctx, actor.orgId, op === 'create' ? prepared.length : 0);

  const result: BulkResult = await inTransaction(ctx.db, async ({ trx, afterCommit }): Promise<BulkResult> => {
    const t = trx;
    const emit = (type: 'record.created' | 'record.updated' | 'record.deleted', rows: Record<string, unknown>[], changed?: string[]) =>
      afterCommit(() => rows.forEach((row) => publish(ctx, actor, type, name, toRecord(model, row), changed)));
    switch (op) {
      case 'create': {
        const cols = Math.max(1, model.fields.length + 3);
        const chunk = Math.max(1, Math.min(1000, Math.floor(30_000 / cols)));
        let created = 0;
        // Ids are chosen here so the answer can give each item its id without reading rows back;
        // rows are read back only when someone subscribes to the events they feed.
        const ids = prepared.map(() => newId());
        const wanted = ctx.events.hasSubscribers('record.created');
        for (let i = 0; i < prepared.length; i += chunk) {
          const part = prepared.slice(i, i + chunk);
          const r = await t
            .executeQuery(
              insertSql(
                models,
                model,
                part.map((p) => p.values),
                actorRef(actor),
                ids.slice(i, i + chunk),
                wanted,
              ),
            )
            .catch((err: unknown) => explain(model, models, err));
          created += wanted ? r.rows.length : Number(r.numAffectedRows ?? part.length);
          if (wanted) emit('record.created', r.rows);
        }
        return { op, count: created, created, updated: 0, items: ids.map((id, index) => ({ index, id })) };
      }
      case 'update':
      case 'upsert': {
        let count = 0;
        let created = 0;
        const done: BulkItemResult[] = [];
        for (const [index, p] of prepared.entries()) {
          let row: Record<string, unknown> | undefined;
          const match = key === 'id' ? p.id : p.values[key];
          const existing =
            match === undefined
              ? undefined
              : (await sql<{ id: string }>`select id from ${table(models, name)} where ${sql.id(key)} = ${match} for update`.execute(t)).rows[0];
          if (existing) {
            row = await updateOne(t, models, model, existing.id, p.values, actor, false).catch((err: unknown) => explain(model, models, err, index));
            if (row) emit('record.updated', [row], Object.keys(p.values));
          } else if (op === 'upsert') {
            const r = await t
              .executeQuery(insertSql(models, model, [p.values], actorRef(actor), key === 'id' && p.id ? [p.id] : undefined))
              .catch((err: unknown) => explain(model, models, err, index));
            row = r.rows[0];
            created++;
            emit('record.created', r.rows);
          }
          if (!row) refuse([{ index, field: 'id', code: 'not_found', message: 'no record with this id' }]);
          count++;
          done.push(op === 'upsert' ? { index, id: row.id as string, created: !existing } : { index, id: row.id as string });
        }
        return { op, count, created, updated: count - created, items: done };
      }
      case 'delete': {
        const ids = prepared.map((p) => p.id!);
        const r = await sql<Record<string, unknown>>`delete from ${table(models, name)} where id = any(${sql.val(ids)}::uuid[]) returning ${columnsOf(model)}`
          .execute(t)
          .catch((err: unknown) => explain(model, models, err));
        if (r.rows.length !== new Set(ids).size) {
          const gone = new Set(r.rows.map((x) => x.id as string));
          refuse(
            ids
              .map((id, index) => ({ index, id }))
              .filter((x) => !gone.has(x.id))
              .map(({ index }) => ({ index, code: 'not_found', message: 'no record with this id' })),
          );
        }
        emit('record.deleted', r.rows);
        return { op, count: r.rows.length, created: 0, updated: 0, items: ids.map((id, index) => ({ index, id })) };
      }
      default: {
        const never: never = op;
        return never;
      }
    }
  }).catch(async (err: unknown) => {
    // A multi-row insert names the value, not the item: find the items (index) that clash.
    if (op === 'create' && err instanceof AppError && err.code === 'RECORD_UNIQUE_VIOLATION') {
      const clashes = await uniqueClashes(ctx, models, model, prepared);
      if (clashes.length)
        throw recordErrors.RECORD_UNIQUE_VIOLATION(
          `${new Set(clashes.map((c) => c.index)).size} item(s) clash on a unique field; nothing was changed. First: item ${clashes[0]!.index}: ${clashes[0]!.field} ${clashes[0]!.message}.`,
          clashes.slice(0, 1000),
        );
    }
    throw err;
  });
  const delta = op === 'delete' ? -result.count : result.created;
  if (delta) ctx.quota.grew(actor.orgId, 'records', delta);
  return result;
}

/**
 * Record operations inside one transaction, for callers that compose several (actions, and later
 * flow data nodes). Values are validated as the REST API does; events are published after commit.
 */
export interface RecordOps {
  create(model: string, values: unknown): Promise<ApiRecord>;
  update(model: string, id: string, values: unknown): Promise<ApiRecord>;
  upsert(model: string, key: string, values: unknown): Promise<ApiRecord>;
  remove(model: string, id: string): Promise<{ id: string }>;
  query(model: string, opts: { filter?: unknown; sort?: string; limit?: number; offset?: number }): Promise<{ items: ApiRecord[]; count: number }>;
}

/**
 * Wraps the work of withRecordOps inside its transaction: flows use it to apply a node's writes
 * once per idempotency key, the key recorded in the same transaction as the writes.
 */
export type TransactionGuard = <T>(trx: QueryExecutorProvider, run: () => Promise<T>) => Promise<T>;

export async function withRecordOps<T>(ctx: RecordsContext, actor: OrgActor, fn: (ops: RecordOps) => Promise<T>, guard?: TransactionGuard): Promise<T> {
  const models = await ctx.cache.get(actor.orgId);
  const modelNamed = (name: string) => {
    const m = models.byName.get(name);
    if (!m) throw schemaErrors.MODEL_NOT_FOUND(`No model "${name.slice(0, 100)}" in this organization.`);
    return m;
  };
  // NB: checked before the transaction (on PGlite it holds the only connection): refused once the
  // limit is reached, not per record of the batch.
  await checkRoom(ctx, actor.orgId, 0);
  return inTransaction(ctx.db, async ({ trx, afterCommit }) => {
    const later = (type: 'record.created' | 'record.updated' | 'record.deleted', name: string, record: ApiRecord, changed?: string[]) =>
      afterCommit(() => publish(ctx, actor, type, name, record, changed));
    const ops: RecordOps = {
      async create(name, body) {
        const model = modelNamed(name);
        const values = validate(model, body, 'full');
        const r = await trx.executeQuery(insertSql(models, model, [values], actorRef(actor))).catch((err: unknown) => explain(model, models, err));
        const rec = toRecord(model, r.rows[0]!);
        afterCommit(() => ctx.quota.grew(actor.orgId, 'records', 1));
        later('record.created', name, rec);
        return rec;
      },
      async update(name, id, body) {
        const model = modelNamed(name);
        const values = validate(model, body, 'partial');
        const row = await updateOne(trx, models, model, id, values, actor, false).catch((err: unknown) => explain(model, models, err));
        if (!row) throw recordErrors.RECORD_NOT_FOUND(`No ${name} record ${id}.`);
        const rec = toRecord(model, row);
        later('record.updated', name, rec, Object.keys(values));
        return rec;
      },
      async upsert(name, key, body) {
        const model = modelNamed(name);
        const values = validate(model, body, 'full');
        const match = values[key];
        const keyField = model.fields.find((f) => f.name === key);
        if (!keyField?.unique || match === undefined || match === null)
          throw recordErrors.QUERY_INVALID(`upsert key "${key}" must be a unique field of ${name} with a value.`);
        const existing = (await sql<{ id: string }>`select id from ${table(models, name)} where ${sql.id(key)} = ${match} for update`.execute(trx)).rows[0];
        if (existing) return ops.update(name, existing.id, values);
        return ops.create(name, values);
      },
      async remove(name, id) {
        const model = modelNamed(name);
        const r = await sql<Record<string, unknown>>`delete from ${table(models, name)} where id = ${id}::uuid returning ${columnsOf(model)}`
          .execute(trx)
          .catch((err: unknown) => explain(model, models, err));
        if (!r.rows[0]) throw recordErrors.RECORD_NOT_FOUND(`No ${name} record ${id}.`);
        later('record.deleted', name, toRecord(model, r.rows[0]));
        return { id };
      },
      async query(name, opts) {
        const model = modelNamed(name);
        const sort = parseSort(model, opts.sort);
        const filter = parseFilter(opts.filter);
        const where = whereFor(model, models, { filter, q: undefined });
        const order = sql.join(sort.map((k) => sql`${sql.ref(`t.${k.column}`)} ${sql.raw(k.desc ? 'desc' : 'asc')}`));
        const limit = Math.min(Math.max(1, opts.limit ?? 100), 1000);
        const offset = Math.max(0, opts.offset ?? 0);
        const r = await sql<
          Record<string, unknown>
        >`select ${columnsOf(model, 't')} from ${table(models, name)} t where ${where} order by ${order} limit ${limit} offset ${offset}`.execute(trx);
        const items = r.rows.map((row) => toRecord(model, row));
        return { items, count: items.length };
      },
    };
    return guard ? guard(trx, () => fn(ops)) : fn(ops);
  });
}
