import type { DeleteImpact } from '@infinity/contracts';
import { sql } from 'kysely';
import { ident } from '../../platform/db/index.js';
import type { OrgActor } from '../access/index.js';
import { inverseRelations } from '../schema/index.js';
import { recordErrors } from './records.errors.js';
import { type RecordsContext, requireModel } from './records.store.js';

/**
 * What deleting records would do to other records, before anything is deleted: the records a
 * cascade removes (following cascades further, through every model), the relations set to null,
 * and the references that restrict the delete (it would be refused). Counts per model and relation.
 *
 *   companies ──cascade──▶ employees ──set null──▶ profiles.employee
 *             └─restrict─▶ desks.company (refuses)
 */

const LIMIT = 100_000;

export async function deleteImpact(ctx: RecordsContext, actor: OrgActor, name: string, ids: string[]): Promise<DeleteImpact> {
  const { models } = await requireModel(ctx, actor, name);
  const db = ctx.db;
  const table = (m: string) => ident(models.schema, m);
  const asked = [...new Set(ids)];
  const found = (await sql<{ id: string }>`select id from ${table(name)} where id = any(${sql.val(asked)}::uuid[])`.execute(db)).rows.map((r) => r.id);
  const gone = new Map<string, Set<string>>([[name, new Set(found)]]);
  const removed = new Map<string, { model: string; relation: string; count: number }>();
  const touched = new Map<string, { model: string; relation: string; kind: 'set null' | 'restrict'; ids: Set<string> }>();
  let total = found.length;
  let truncated = false;
  const queue: { model: string; ids: string[] }[] = found.length ? [{ model: name, ids: found }] : [];
  while (queue.length) {
    const { model, ids: parents } = queue.shift()!;
    for (const inv of inverseRelations(models.byName, model)) {
      const source = models.byName.get(inv.model)!;
      const field = source.fields.find((f) => f.name === inv.field);
      if (field?.type !== 'relation') continue;
      const relation = `${source.name}.${field.name}`;
      const rows = (
        await sql<{
          id: string;
        }>`select id from ${table(source.name)} where ${ident(field.name)} = any(${sql.val(parents)}::uuid[]) limit ${LIMIT + 1}`.execute(db)
      ).rows.map((r) => r.id);
      if (rows.length > LIMIT) truncated = true;
      if (!rows.length) continue;
      if (field.onDelete === 'cascade') {
        let seen = gone.get(source.name);
        if (!seen) gone.set(source.name, (seen = new Set()));
        const fresh = rows.filter((id) => !seen.has(id));
        fresh.forEach((id) => seen.add(id));
        if (!fresh.length) continue;
        const r = removed.get(relation) ?? { model: source.name, relation, count: 0 };
        r.count += fresh.length;
        removed.set(relation, r);
        total += fresh.length;
        if (total > LIMIT) truncated = true;
        else queue.push({ model: source.name, ids: fresh });
      } else {
        const t = touched.get(relation) ?? { model: source.name, relation, kind: field.onDelete, ids: new Set<string>() };
        rows.forEach((id) => t.ids.add(id));
        touched.set(relation, t);
      }
    }
  }
  const setNull: DeleteImpact['setNull'] = [];
  const restrict: DeleteImpact['restrict'] = [];
  for (const t of touched.values()) {
    // A record the cascade removes anyway is not also "set to null".
    const count = t.kind === 'set null' ? [...t.ids].filter((id) => !gone.get(t.model)?.has(id)).length : t.ids.size;
    if (count) (t.kind === 'set null' ? setNull : restrict).push({ model: t.model, relation: t.relation, count });
  }
  const foundSet = new Set(found);
  return {
    model: name,
    records: found.length,
    missing: asked.filter((id) => !foundSet.has(id)),
    removed: [...removed.values()],
    setNull,
    restrict,
    blocked: restrict.length > 0,
    truncated,
  };
}

/** One record's impact; 404 when it does not exist. */
export async function recordDeleteImpact(ctx: RecordsContext, actor: OrgActor, name: string, id: string): Promise<DeleteImpact> {
  const impact = await deleteImpact(ctx, actor, name, [id]);
  if (!impact.records) throw recordErrors.RECORD_NOT_FOUND();
  return impact;
}
