import type { EventRecord } from '@infinity/contracts';
import type { Kysely, QueryExecutorProvider } from 'kysely';
import { type Expected, preconditionFailed } from '../../platform/concurrency.js';
import { type UnitOfWork, inStatement, inTransaction } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import { type OrgActor, actorRef } from '../access/index.js';
import { type ModelCache, type ModelDef, type OrgModels, schemaErrors } from '../schema/index.js';
import type { QuotaGate } from '../usage/index.js';
import { type DeleteEffects, deleteEffects } from './delete-effects.js';
import { explain } from './explain.js';
import { parseFilter } from './filter.js';
import { parseSort, whereFor } from './list-query.js';
import { recordErrors } from './records.errors.js';
import { type RecordEvents, recordEvents } from './records.events.js';
import * as repo from './records.repo.js';
import { validateValues } from './validate.js';

/**
 * The records store: the one write path of records, used by the REST API, bulk writes, imports,
 * flows, actions and agents. Every write runs in a unit of work — the caller's (recordOpsIn), or
 * one of its own — which carries its events (emitted in the transaction, delivered after commit)
 * and its quota accounting (after commit). Values are validated once (validate.ts); the SQL is in
 * records.repo.ts.
 *
 *   routes / flows / actions / agents / import ─▶ store ─▶ repo ─▶ PostgreSQL
 *                                                  └─▶ spine.emit(uow, record.*)
 */
export interface RecordsContext {
  db: Kysely<object>;
  cache: ModelCache;
  events: EventSpine;
  /** The plan's record and storage limits. */
  quota: QuotaGate;
}

export type ApiRecord = Record<string, unknown>;

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
const asEvent = (r: ApiRecord) => r as EventRecord;

export function modelIn(models: OrgModels, name: string): ModelDef {
  const model = models.byName.get(name);
  if (!model) throw schemaErrors.MODEL_NOT_FOUND(`No model "${name.slice(0, 100)}" in this organization.`);
  return model;
}

export async function requireModel(ctx: Pick<RecordsContext, 'cache'>, actor: OrgActor, name: string): Promise<{ model: ModelDef; models: OrgModels }> {
  const models = await ctx.cache.get(actor.orgId);
  return { model: modelIn(models, name), models };
}

/** Refuses writes that would pass the plan's record count, or any once storage is used up. */
export async function checkRoom(ctx: RecordsContext, orgId: string, adding: number): Promise<void> {
  await ctx.quota.check(orgId, 'storageMb', 0);
  await ctx.quota.check(orgId, 'records', adding);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** An id that is no UUID names no record (every path answers so; the database would refuse the cast). */
export const isRecordId = (id: unknown): id is string => typeof id === 'string' && UUID.test(id);
function notFound(model: ModelDef, id: string): never {
  throw recordErrors.RECORD_NOT_FOUND(`No ${model.name} record ${id.slice(0, 64)}.`);
}

/** One unit of work of one actor's record writes: its transaction, the organization's models, its events. */
export interface Scope {
  ctx: RecordsContext;
  actor: OrgActor;
  models: OrgModels;
  uow: UnitOfWork<object>;
  events: RecordEvents;
}

export function scopeOf(ctx: RecordsContext, actor: OrgActor, models: OrgModels, uow: UnitOfWork<object>): Scope {
  return { ctx, actor, models, uow, events: recordEvents(ctx.events, uow, actor) };
}

/** Why a conditional write changed nothing: the record is gone (404), or it has another version (412). */
async function refuseStale(s: Scope, model: ModelDef, id: string): Promise<never> {
  const current = await repo.versionOf(s.uow.trx, s.models, model, id);
  if (current === undefined) return notFound(model, id);
  throw preconditionFailed('record', current);
}

/** Inserts validated values (`id`: a given id, for upsert by id; `index`: a bulk item's position, for the error). */
export async function createIn(
  s: Scope,
  model: ModelDef,
  values: Record<string, unknown>,
  opts: { id?: string | undefined; index?: number } = {},
): Promise<ApiRecord> {
  const r = await repo
    .insertRows(s.uow.trx, s.models, model, [values], actorRef(s.actor), opts.id ? [opts.id] : undefined)
    .catch((err: unknown) => explain(model, s.models, err, opts.index));
  const record = toRecord(model, r.rows[0]!);
  s.uow.afterCommit(() => s.ctx.quota.grew(s.actor.orgId, 'records', 1));
  s.events.created(model.name, asEvent(record));
  return record;
}

export interface UpdateOptions {
  /** PUT: absent fields return to their default or null. */
  replace?: boolean;
  /** If-Match: only a record still at one of these versions (updatedAt values) is written. */
  expected?: Expected;
  /** A bulk item's position, for the error. */
  index?: number;
}

/** Updates a record with validated values; 404 when there is none, 412 when `expected` is stale. */
export async function updateIn(s: Scope, model: ModelDef, id: string, values: Record<string, unknown>, opts: UpdateOptions = {}): Promise<ApiRecord> {
  if (!isRecordId(id)) return notFound(model, id);
  const replace = opts.replace === true;
  const r = await repo
    .updateRow(s.uow.trx, s.models, model, { id, values, who: actorRef(s.actor), replace, expected: opts.expected })
    .catch((err: unknown) => explain(model, s.models, err, opts.index));
  if (!r) return refuseStale(s, model, id);
  const after = toRecord(model, r.after);
  const changed = replace ? model.fields.map((f) => f.name) : Object.keys(values);
  s.events.updated(model.name, { before: asEvent(toRecord(model, r.before)), after: asEvent(after), changed });
  return after;
}

/**
 * Upsert: updates the record whose `key` (id, or a unique field) has the value, or creates one.
 * `id` is the record id for key "id".
 */
export async function upsertIn(
  s: Scope,
  model: ModelDef,
  key: string,
  values: Record<string, unknown>,
  opts: { id?: string | undefined; index?: number } = {},
): Promise<{ record: ApiRecord; created: boolean }> {
  const match = key === 'id' ? opts.id : values[key];
  const existing = match === undefined || match === null ? undefined : await repo.idByKey(s.uow.trx, s.models, model, key, match);
  const at = opts.index === undefined ? {} : { index: opts.index };
  if (existing) return { record: await updateIn(s, model, existing, values, at), created: false };
  return { record: await createIn(s, model, values, { ...(key === 'id' ? { id: opts.id } : {}), ...at }), created: true };
}

/** Tells what a delete did to other records (cascade, set null): record.deleted / record.updated with their cause. */
export function tellEffects(s: Scope, effects: DeleteEffects | undefined): void {
  if (!effects) return;
  for (const r of effects.removed) s.events.deleted(r.model.name, asEvent(toRecord(r.model, r.before)), r.cause);
  for (const n of effects.nulled) {
    const before = toRecord(n.model, n.before);
    const after = { ...before };
    for (const f of n.fields) after[f] = null;
    s.events.updated(n.model.name, { before: asEvent(before), after: asEvent(after), changed: n.fields, cause: n.cause });
  }
}

/** Deletes a record (404 when there is none, 412 when `expected` is stale); returns it as it was. */
export async function removeIn(s: Scope, model: ModelDef, id: string, expected?: Expected): Promise<ApiRecord> {
  if (!isRecordId(id)) return notFound(model, id);
  const effects = await deleteEffects(s.uow.trx, s.models, model, [id]);
  const rows = await repo.deleteRows(s.uow.trx, s.models, model, [id], expected).catch((err: unknown) => explain(model, s.models, err));
  if (!rows[0]) return refuseStale(s, model, id);
  const before = toRecord(model, rows[0]);
  s.uow.afterCommit(() => s.ctx.quota.grew(s.actor.orgId, 'records', -(1 + (effects?.removed.length ?? 0))));
  s.events.deleted(model.name, asEvent(before));
  tellEffects(s, effects);
  return before;
}

export interface QueryOptions {
  filter?: unknown;
  sort?: string;
  limit?: number;
  offset?: number;
}

/** Records by filter and sort (limit 1–1,000, default 100), for flows and actions. */
export async function queryIn(exec: Kysely<object>, models: OrgModels, model: ModelDef, opts: QueryOptions): Promise<ApiRecord[]> {
  const sort = parseSort(model, opts.sort);
  const where = whereFor(model, models, { filter: parseFilter(opts.filter), q: undefined });
  const limit = Math.min(Math.max(1, opts.limit ?? 100), 1000);
  const offset = Math.max(0, opts.offset ?? 0);
  const rows = await repo.queryRows(exec, models, model, { where, sort, limit, offset });
  return rows.map((row) => toRecord(model, row));
}

/** Runs `fn` in a unit of work of its own, with the organization's models read before it opens. */
async function write<T>(ctx: RecordsContext, actor: OrgActor, models: OrgModels, fn: (s: Scope) => Promise<T>, single?: SingleStatement): Promise<T> {
  // One statement whose event no durable consumer wants (no record trigger listens): it commits by
  // itself and its event follows it, two round trips fewer than a transaction. The probe has no
  // actor, so it asks at least as much as the real event would (a flow's own writes never trigger it).
  if (
    single &&
    !ctx.events.wantsOutbox({
      type: single.type,
      orgId: actor.orgId,
      permission: 'records:read',
      model: single.model,
      recordId: '',
      after: { id: '' },
      changed: [],
    })
  )
    return inStatement(ctx.db, (uow) => fn(scopeOf(ctx, actor, models, uow)));
  return inTransaction(ctx.db, (uow) => fn(scopeOf(ctx, actor, models, uow)));
}

/** A write that is one statement (a create; an update, which reads its before in the same statement). */
interface SingleStatement {
  type: 'record.created' | 'record.updated';
  model: string;
}

export async function createRecord(ctx: RecordsContext, actor: OrgActor, name: string, body: unknown): Promise<ApiRecord> {
  const { model, models } = await requireModel(ctx, actor, name);
  const values = validateValues(model, body, 'full');
  await checkRoom(ctx, actor.orgId, 1);
  return write(ctx, actor, models, (s) => createIn(s, model, values), { type: 'record.created', model: model.name });
}

/** PUT (replace) or PATCH; with `expected` (If-Match: updatedAt values) only if the record is still at one of them. */
export async function updateRecord(ctx: RecordsContext, actor: OrgActor, name: string, id: string, body: unknown, opts: UpdateOptions = {}) {
  const { model, models } = await requireModel(ctx, actor, name);
  const values = validateValues(model, body, opts.replace ? 'full' : 'partial');
  return write(ctx, actor, models, (s) => updateIn(s, model, id, values, opts), { type: 'record.updated', model: model.name });
}

export async function deleteRecord(ctx: RecordsContext, actor: OrgActor, name: string, id: string, opts: { expected?: Expected } = {}): Promise<void> {
  const { model, models } = await requireModel(ctx, actor, name);
  await write(ctx, actor, models, (s) => removeIn(s, model, id, opts.expected));
}

/** One record by id, as the API shows it (404 when there is none). */
export async function getRecord(ctx: RecordsContext, actor: OrgActor, name: string, id: string): Promise<ApiRecord> {
  const { model, models } = await requireModel(ctx, actor, name);
  if (!isRecordId(id)) return notFound(model, id);
  const row = await repo.selectById(ctx.db, models, model, id);
  if (!row) return notFound(model, id);
  return toRecord(model, row);
}

/**
 * Record operations in one unit of work, for callers that compose several (actions, flow data
 * nodes, agents): values are validated as the REST API does; events are delivered after commit.
 */
export interface RecordOps {
  create(model: string, values: unknown): Promise<ApiRecord>;
  update(model: string, id: string, values: unknown): Promise<ApiRecord>;
  upsert(model: string, key: string, values: unknown): Promise<ApiRecord>;
  remove(model: string, id: string): Promise<{ id: string }>;
  query(model: string, opts: QueryOptions): Promise<{ items: ApiRecord[]; count: number }>;
}

/** The store's operations in the caller's unit of work (its models read before the transaction opened). */
export function recordOpsIn(ctx: RecordsContext, actor: OrgActor, models: OrgModels, uow: UnitOfWork<object>): RecordOps {
  const s = scopeOf(ctx, actor, models, uow);
  return {
    create: async (name, body) => {
      const model = modelIn(models, name);
      return createIn(s, model, validateValues(model, body, 'full'));
    },
    update: async (name, id, body) => {
      const model = modelIn(models, name);
      return updateIn(s, model, id, validateValues(model, body, 'partial'));
    },
    upsert: async (name, key, body) => {
      const model = modelIn(models, name);
      const values = validateValues(model, body, 'full');
      const keyField = model.fields.find((f) => f.name === key);
      if (!keyField?.unique || values[key] === undefined || values[key] === null)
        throw recordErrors.QUERY_INVALID(`upsert key "${key.slice(0, 60)}" must be a unique field of ${name} with a value.`);
      return (await upsertIn(s, model, key, values)).record;
    },
    remove: async (name, id) => {
      await removeIn(s, modelIn(models, name), id);
      return { id };
    },
    query: async (name, opts) => {
      const items = await queryIn(uow.trx, models, modelIn(models, name), opts);
      return { items, count: items.length };
    },
  };
}

/**
 * Wraps the work of withRecordOps inside its transaction: flows use it to apply a node's writes
 * once per idempotency key, the key recorded in the same transaction as the writes.
 */
export type TransactionGuard = <T>(trx: QueryExecutorProvider, run: () => Promise<T>) => Promise<T>;

/** Record operations in a unit of work of their own (all or nothing). */
export async function withRecordOps<T>(ctx: RecordsContext, actor: OrgActor, fn: (ops: RecordOps) => Promise<T>, guard?: TransactionGuard): Promise<T> {
  const models = await ctx.cache.get(actor.orgId);
  // NB: checked before the transaction (on PGlite it holds the only connection): refused once the
  // limit is reached, not per record of the batch.
  await checkRoom(ctx, actor.orgId, 0);
  return inTransaction(ctx.db, async (uow) => {
    const ops = recordOpsIn(ctx, actor, models, uow);
    return guard ? guard(uow.trx, () => fn(ops)) : fn(ops);
  });
}
