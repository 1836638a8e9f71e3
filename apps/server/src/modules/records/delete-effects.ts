import { type ModelDef, type OrgModels, inverseRelations } from '../schema/index.js';
import type { Cause } from './records.events.js';
import { type Exec, type Row, lockRows, referencing } from './records.repo.js';

/**
 * What the database will do to other records when these are deleted, found before the delete in
 * its transaction so the changes it makes on its own can be told as events:
 *
 *   companies ──cascade──▶ employees ──cascade──▶ reviews      → record.deleted, cause: the parent
 *                                    └─set null──▶ profiles    → record.updated, cause: the parent
 *
 * The deleted records are locked first (nothing can start pointing at them meanwhile), and every
 * record found is locked too, so what is found is what the delete then changes. References that
 * restrict are not followed: the database refuses the delete (RECORD_DELETE_RESTRICTED).
 * delete-impact.ts counts the same walk without changing anything.
 */
export interface DeleteEffects {
  /** The asked ids that exist, locked. */
  found: string[];
  /** Records a cascade removes, parents before their children. */
  removed: { model: ModelDef; before: Row; cause: Cause }[];
  /** Records whose relations are set to null (after: before with those fields null). */
  nulled: { model: ModelDef; before: Row; fields: string[]; cause: Cause }[];
}

export async function deleteEffects(exec: Exec, models: OrgModels, model: ModelDef, ids: string[]): Promise<DeleteEffects | undefined> {
  // A model nothing points at: the delete changes nothing else (and needs no walk).
  if (!inverseRelations(models.byName, model.name).length) return undefined;
  const found = await lockRows(exec, models, model, [...new Set(ids)]);
  const gone = new Map<string, Set<string>>([[model.name, new Set(found)]]);
  const removed: DeleteEffects['removed'] = [];
  const nulled = new Map<string, DeleteEffects['nulled'][number]>();
  const queue: { model: ModelDef; ids: string[] }[] = found.length ? [{ model, ids: found }] : [];
  while (queue.length) {
    const parent = queue.shift()!;
    for (const inv of inverseRelations(models.byName, parent.model.name)) {
      const source = models.byName.get(inv.model)!;
      const field = source.fields.find((f) => f.name === inv.field);
      if (field?.type !== 'relation' || field.onDelete === 'restrict') continue;
      const rows = await referencing(exec, models, source, field.name, parent.ids);
      if (!rows.length) continue;
      const cause = (row: Row): Cause => ({ type: 'cascade', model: parent.model.name, recordId: row[field.name] as string });
      if (field.onDelete === 'cascade') {
        let seen = gone.get(source.name);
        if (!seen) gone.set(source.name, (seen = new Set()));
        const fresh = rows.filter((r) => !seen.has(r.id as string));
        for (const r of fresh) {
          seen.add(r.id as string);
          removed.push({ model: source, before: r, cause: cause(r) });
        }
        if (fresh.length) queue.push({ model: source, ids: fresh.map((r) => r.id as string) });
      } else {
        for (const r of rows) {
          const key = `${source.name} ${r.id as string}`;
          const known = nulled.get(key);
          if (known) {
            if (!known.fields.includes(field.name)) known.fields.push(field.name);
          } else nulled.set(key, { model: source, before: r, fields: [field.name], cause: cause(r) });
        }
      }
    }
  }
  // A record the cascade removes anyway is not also "set to null".
  return { found, removed, nulled: [...nulled.values()].filter((n) => !gone.get(n.model.name)?.has(n.before.id as string)) };
}
