import type { Kysely } from 'kysely';
import type { EventSpine } from '../../platform/events/index.js';
import type { EmbeddingConfig, FieldDef, ModelDef } from './fields.js';
import { listModels, type SchemaTables } from './schema.repo.js';

export interface OrgModels {
  schema: string;
  byName: Map<string, ModelDef>;
}

/**
 * Every model of an organization, read once and kept for `ttlMs`: a record request needs its
 * model, its relation targets and its inverse relations, and must not pay a query for them.
 * The writing process forgets an organization at the commit of a model change; every process
 * that `follow`s the spine forgets it when the model.changed event arrives (the TTL only bounds
 * what a lost event could leave stale: `clear()` on a transport resync).
 */
export class ModelCache {
  private readonly orgs = new Map<string, { value: OrgModels; expires: number }>();

  constructor(
    private readonly db: Kysely<SchemaTables>,
    private readonly ttlMs = 2000,
  ) {}

  async get(orgId: string): Promise<OrgModels> {
    const hit = this.orgs.get(orgId);
    if (hit && hit.expires > Date.now()) return hit.value;
    const [org, rows] = await Promise.all([
      this.db.selectFrom('organizations').select('schema_name').where('id', '=', orgId).executeTakeFirstOrThrow(),
      listModels(this.db, orgId),
    ]);
    const value: OrgModels = { schema: org.schema_name, byName: new Map(rows.map((r) => [r.name, toModel(r)])) };
    this.orgs.set(orgId, { value, expires: Date.now() + this.ttlMs });
    return value;
  }

  forget(orgId: string): void {
    this.orgs.delete(orgId);
  }

  /** Forgets everything (the event transport reconnected: events may have been missed). */
  clear(): void {
    this.orgs.clear();
  }

  /** Forgets an organization's models whenever one of them changes, in any process. Returns the unsubscribe. */
  follow(events: Pick<EventSpine, 'subscribe' | 'onResync'>): () => void {
    const offs = [events.subscribe('model.changed', (e) => this.forget(e.orgId)), events.onResync(() => this.clear())];
    return () => offs.forEach((off) => off());
  }
}

export function toModel(r: {
  id: string;
  org_id: string;
  name: string;
  label: string;
  description: string;
  fields: FieldDef[];
  embedding: EmbeddingConfig | null;
  version: number;
  created_at: Date;
  updated_at: Date;
}): ModelDef {
  return {
    id: r.id,
    orgId: r.org_id,
    name: r.name,
    label: r.label,
    description: r.description,
    fields: r.fields,
    embedding: r.embedding,
    version: r.version,
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
  };
}

export interface InverseRelation {
  /** The read-only field on the target, e.g. companies.employees. */
  name: string;
  /** The model holding the foreign key and its field. */
  model: string;
  field: string;
  kind: 'one-to-many' | 'one-to-one';
}

/**
 * The inverse side of every relation pointing at `target`: named after the source model
 * (SPEC §13: companies.employees), or `<model>_<field>` when that name is taken.
 */
export function inverseRelations(models: Map<string, ModelDef>, target: string): InverseRelation[] {
  const t = models.get(target);
  const taken = new Set(t?.fields.map((f) => f.name) ?? []);
  const out: InverseRelation[] = [];
  for (const m of [...models.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    for (const f of m.fields) {
      if (f.type !== 'relation' || f.target !== target) continue;
      let name = m.name;
      if (taken.has(name)) name = `${m.name}_${f.name}`;
      taken.add(name);
      out.push({ name, model: m.name, field: f.name, kind: f.kind === 'one-to-one' ? 'one-to-one' : 'one-to-many' });
    }
  }
  return out;
}
