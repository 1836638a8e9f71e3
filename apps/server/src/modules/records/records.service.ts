import type { OrgActor } from '../access/index.js';
import { type ModelDef, type OrgModels, inverseRelations } from '../schema/index.js';
import { pgErrorCode } from '../../platform/db/index.js';
import { explain } from './explain.js';
import { type FilterNode, parseFilter } from './filter.js';
import { type ListQuery, encodeCursor, whereFor } from './list-query.js';
import { recordErrors } from './records.errors.js';
import * as repo from './records.repo.js';
import { type ApiRecord, type RecordsContext, isRecordId, requireModel, toRecord } from './records.store.js';

/**
 * The records' read use cases: lists (filter, sort, cursor, count, expand), one record with its
 * version, and whether a record matches a filter. Writes go through the store (records.store.ts).
 */
const EXPAND_MANY_LIMIT = 50;

/**
 * Whether a record (as the API shows it, e.g. from an event) matches a filter, decided by the
 * same SQL compiler as the list API (relations included): the record is turned back into a row of
 * the model's table type in SQL, so it works for deleted records too.
 */
export async function recordMatches(ctx: RecordsContext, actor: OrgActor, name: string, filter: unknown, record: ApiRecord): Promise<boolean> {
  const { model, models } = await requireModel(ctx, actor, name);
  const node = parseFilter(filter);
  if (!node) return true;
  return repo.rowMatches(ctx.db, models, model, rowOf(model, record), whereFor(model, models, { filter: node, q: undefined }));
}

/** A record as the API shows it, back as a row of its table (for jsonb_populate_record). */
function rowOf(model: ModelDef, record: ApiRecord): Record<string, unknown> {
  const row: Record<string, unknown> = {
    id: record.id,
    created_at: record.createdAt,
    updated_at: record.updatedAt,
    created_by: record.createdBy,
    updated_by: record.updatedBy,
  };
  for (const f of model.fields) if (f.name in record) row[f.name] = record[f.name];
  return row;
}

/**
 * A filter checked once, for subscribers that evaluate it many times (realtime): parsed and
 * compiled against the organization's current models, so a bad field or operator is refused up front.
 */
export async function checkFilter(ctx: RecordsContext, actor: OrgActor, name: string, filter: unknown): Promise<FilterNode | undefined> {
  const { model, models } = await requireModel(ctx, actor, name);
  const node = parseFilter(filter);
  if (node) whereFor(model, models, { filter: node, q: undefined });
  return node;
}

/**
 * For each record (in order), which of the filters it matches, by the list API's SQL compiler
 * (relations included, read as they are now), in one statement for all records and filters.
 */
export async function recordsMatchEach(ctx: RecordsContext, actor: OrgActor, name: string, filters: FilterNode[], records: ApiRecord[]): Promise<boolean[][]> {
  const { model, models } = await requireModel(ctx, actor, name);
  if (!filters.length || !records.length) return records.map(() => filters.map(() => true));
  const wheres = filters.map((filter) => whereFor(model, models, { filter, q: undefined }));
  return repo.rowsMatchEach(
    ctx.db,
    models,
    model,
    records.map((r) => rowOf(model, r)),
    wheres,
  );
}

export async function listRecords(ctx: RecordsContext, actor: OrgActor, name: string, q: ListQuery) {
  const { model, models } = await requireModel(ctx, actor, name);
  const where = whereFor(model, models, q);
  const rows = await repo
    .listPage(ctx.db, models, model, { where, sort: q.sort, cursor: q.cursor?.values, limit: q.limit, offset: q.offset })
    .catch((err: unknown) => {
      // NB: decodeCursor checks every value against its column's type; should a value still fail
      // its cast (class 22, data exception), it is the client's cursor, not a server fault.
      if (q.cursor && pgErrorCode(err)?.startsWith('22')) throw recordErrors.QUERY_INVALID('cursor is not one this API issued; start again without cursor');
      return explain(model, models, err);
    });
  const page = rows.slice(0, q.limit);
  const more = rows.length > q.limit;
  const total = q.count ? await repo.countWhere(ctx.db, models, model, where) : null;
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
      const found = ids.length ? await repo.selectByIds(ctx.db, models, target, ids) : [];
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
    const children = ids.length ? await repo.childrenOf(ctx.db, models, source, inv.field, ids, EXPAND_MANY_LIMIT) : [];
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

/** A record and its version (its updatedAt, whichever fields were asked for): GET answers the version as the ETag. */
export async function getVersionedRecord(ctx: RecordsContext, actor: OrgActor, name: string, id: string, opts: { expand?: string[]; fields?: string[] } = {}) {
  const { model, models } = await requireModel(ctx, actor, name);
  const row = isRecordId(id) ? await repo.selectById(ctx.db, models, model, id) : undefined;
  if (!row) throw recordErrors.RECORD_NOT_FOUND();
  const out = [toRecord(model, row, opts.fields)];
  if (opts.expand?.length) await expand(ctx, models, model, [row], out, opts.expand);
  return { record: out[0]!, version: row._updated_us as string };
}
