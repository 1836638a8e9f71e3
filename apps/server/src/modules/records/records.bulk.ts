import type { EventRecord } from '@infinity/contracts';
import { inTransaction } from '../../platform/db/index.js';
import { AppError } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { type OrgActor, actorRef } from '../access/index.js';
import type { ModelDef, OrgModels } from '../schema/index.js';
import { deleteEffects } from './delete-effects.js';
import { explain } from './explain.js';
import { recordErrors } from './records.errors.js';
import * as repo from './records.repo.js';
import { type RecordsContext, checkRoom, isRecordId, requireModel, scopeOf, tellEffects, toRecord, updateIn, upsertIn } from './records.store.js';
import { checkValues } from './validate.js';

/**
 * Bulk writes of the records store: all or nothing. Every item is validated first (all problems
 * reported, with their index), then everything is written in one transaction; a constraint
 * refusal rolls the whole batch back. One event per row, delivered after the commit.
 */
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
        values.push(repo.param(f, v));
      }
    });
    if (!values.length) continue;
    for (const v of await repo.takenValues(ctx.db, models, model, f.name, values)) {
      const index = firstAt.get(JSON.stringify(v instanceof Date ? v.toISOString() : v));
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

type Prepared = { id?: string; values: Record<string, unknown> };

/** Every item checked (validate.ts, as a single write is) before anything is written. */
function prepare(model: ModelDef, op: BulkOp, items: unknown[], key: string): Prepared[] {
  const problems: ItemProblem[] = [];
  const prepared = items.map((item, index): Prepared => {
    if (op === 'delete') {
      if (!isRecordId(item)) problems.push({ index, code: 'invalid_id', message: 'delete takes record ids' });
      return { id: item as string, values: {} };
    }
    const isObject = typeof item === 'object' && item !== null && !Array.isArray(item);
    const { id, ...rest } = isObject ? (item as Record<string, unknown>) : {};
    if (isObject && (op === 'update' || (op === 'upsert' && key === 'id')) && !isRecordId(id))
      problems.push({ index, field: 'id', code: 'required', message: `${op} items need their id` });
    if (op === 'create' && id !== undefined) problems.push({ index, field: 'id', code: 'unknown_field', message: 'ids are assigned by the server' });
    const r = checkValues(model, isObject ? rest : item, op === 'update' ? 'partial' : 'full');
    if ('issues' in r) for (const i of r.issues) problems.push({ index, ...i });
    return { ...(typeof id === 'string' ? { id } : {}), values: 'values' in r ? r.values : {} };
  });
  if (problems.length) refuse(problems);
  return prepared;
}

export async function bulk(ctx: RecordsContext, actor: OrgActor, name: string, op: BulkOp, items: unknown[], key = 'id'): Promise<BulkResult> {
  const { model, models } = await requireModel(ctx, actor, name);
  const keyField = key === 'id' ? undefined : model.fields.find((f) => f.name === key);
  if (op === 'upsert' && key !== 'id' && !(keyField && keyField.unique))
    throw recordErrors.QUERY_INVALID(`upsert key "${key.slice(0, 60)}" must be id or a unique field of ${model.name}.`);
  const prepared = prepare(model, op, items, key);
  if (op === 'create' || op === 'upsert') await checkRoom(ctx, actor.orgId, op === 'create' ? prepared.length : 0);

  const result: BulkResult = await inTransaction(ctx.db, async (uow): Promise<BulkResult> => {
    const s = scopeOf(ctx, actor, models, uow);
    const trx = uow.trx;
    switch (op) {
      case 'create': {
        const cols = Math.max(1, model.fields.length + 3);
        const chunk = Math.max(1, Math.min(1000, Math.floor(30_000 / cols)));
        let created = 0;
        // Ids are chosen here so the answer can give each item its id without reading rows back;
        // rows are read back only when someone listens to the events they feed.
        const ids = prepared.map(() => newId());
        const wanted = ctx.events.hasSubscribers('record.created');
        for (let i = 0; i < prepared.length; i += chunk) {
          const part = prepared.slice(i, i + chunk);
          const r = await repo
            .insertRows(
              trx,
              models,
              model,
              part.map((p) => p.values),
              actorRef(actor),
              ids.slice(i, i + chunk),
              wanted,
            )
            .catch((err: unknown) => explain(model, models, err));
          created += wanted ? r.rows.length : Number(r.numAffectedRows ?? part.length);
          if (wanted) for (const row of r.rows) s.events.created(model.name, toRecord(model, row) as EventRecord);
        }
        return { op, count: created, created, updated: 0, items: ids.map((id, index) => ({ index, id })) };
      }
      case 'update':
      case 'upsert': {
        let created = 0;
        const done: BulkItemResult[] = [];
        for (const [index, p] of prepared.entries()) {
          if (op === 'update') {
            const exists = await repo.idByKey(trx, models, model, 'id', p.id);
            if (!exists) refuse([{ index, field: 'id', code: 'not_found', message: 'no record with this id' }]);
            const record = await updateIn(s, model, p.id!, p.values, { index });
            done.push({ index, id: record.id as string });
            continue;
          }
          const r = await upsertIn(s, model, key, p.values, { id: p.id, index });
          if (r.created) created++;
          done.push({ index, id: r.record.id as string, created: r.created });
        }
        return { op, count: done.length, created, updated: done.length - created, items: done };
      }
      case 'delete': {
        const ids = prepared.map((p) => p.id!);
        const effects = await deleteEffects(trx, models, model, ids);
        const rows = await repo.deleteRows(trx, models, model, ids).catch((err: unknown) => explain(model, models, err));
        if (rows.length !== new Set(ids).size) {
          const gone = new Set(rows.map((x) => x.id as string));
          refuse(
            ids
              .map((id, index) => ({ index, id }))
              .filter((x) => !gone.has(x.id))
              .map(({ index }) => ({ index, code: 'not_found', message: 'no record with this id' })),
          );
        }
        // In the order asked for (the database returns them in its own).
        const at = new Map(ids.map((id, i) => [id, i]));
        rows.sort((a, b) => at.get(a.id as string)! - at.get(b.id as string)!);
        for (const row of rows) s.events.deleted(model.name, toRecord(model, row) as EventRecord);
        tellEffects(s, effects);
        uow.afterCommit(() => ctx.quota.grew(actor.orgId, 'records', -(effects?.removed.length ?? 0)));
        return { op, count: rows.length, created: 0, updated: 0, items: ids.map((id, index) => ({ index, id })) };
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
  // Created rows and deletes are counted here, once (upserts created in the store count themselves).
  const delta = op === 'delete' ? -result.count : op === 'create' ? result.created : 0;
  if (delta) ctx.quota.grew(actor.orgId, 'records', delta);
  return result;
}
