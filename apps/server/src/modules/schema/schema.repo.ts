import type { ColumnType, Kysely, Transaction } from 'kysely';
import type { EmbeddingConfig, FieldDef } from './fields.js';

export interface ModelsTable {
  id: string;
  org_id: string;
  name: string;
  label: string;
  description: string;
  fields: ColumnType<FieldDef[], string, string>;
  embedding: ColumnType<EmbeddingConfig | null, string | null | undefined, string | null>;
  version: ColumnType<number, number | undefined, number>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ModelVersionsTable {
  id: string;
  org_id: string;
  model_id: string;
  version: number;
  change: ColumnType<unknown, string, never>;
  fields: ColumnType<FieldDef[], string, never>;
  name: string;
  actor: string | null;
  created_at: ColumnType<Date, never, never>;
}

export interface SchemaTables {
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  organizations: { id: string; schema_name: string };
}

type Exec = Kysely<SchemaTables> | Transaction<SchemaTables>;
const columns = ['id', 'org_id', 'name', 'label', 'description', 'fields', 'embedding', 'version', 'created_at', 'updated_at'] as const;

export async function orgSchemaName(db: Exec, orgId: string): Promise<string> {
  const r = await db.selectFrom('organizations').select('schema_name').where('id', '=', orgId).executeTakeFirstOrThrow();
  return r.schema_name;
}

export function listModels(db: Exec, orgId: string) {
  return db.selectFrom('models').select(columns).where('org_id', '=', orgId).orderBy('name').execute();
}

export function findModel(db: Exec, orgId: string, name: string) {
  return db.selectFrom('models').select(columns).where('org_id', '=', orgId).where('name', '=', name).executeTakeFirst();
}

/** Locks the model row: concurrent changes to one model apply one after the other. */
export function lockModel(trx: Transaction<SchemaTables>, orgId: string, name: string) {
  return trx.selectFrom('models').select(columns).where('org_id', '=', orgId).where('name', '=', name).forUpdate().executeTakeFirst();
}

export async function insertModel(db: Exec, m: { id: string; orgId: string; name: string; label: string; description: string; fields: FieldDef[] }) {
  return db
    .insertInto('models')
    .values({ id: m.id, org_id: m.orgId, name: m.name, label: m.label, description: m.description, fields: JSON.stringify(m.fields) })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export async function updateModel(
  db: Exec,
  id: string,
  m: { name: string; label: string; description: string; fields: FieldDef[]; version: number; embedding?: EmbeddingConfig | null },
) {
  return db
    .updateTable('models')
    .set({
      name: m.name,
      label: m.label,
      description: m.description,
      fields: JSON.stringify(m.fields),
      version: m.version,
      updated_at: new Date(),
      ...(m.embedding !== undefined ? { embedding: m.embedding && JSON.stringify(m.embedding) } : {}),
    })
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export async function deleteModel(db: Exec, id: string) {
  await db.deleteFrom('models').where('id', '=', id).execute();
}

export async function insertVersion(
  db: Exec,
  v: { id: string; orgId: string; modelId: string; version: number; change: unknown; fields: FieldDef[]; name: string; actor: string | null },
) {
  await db
    .insertInto('model_versions')
    .values({
      id: v.id,
      org_id: v.orgId,
      model_id: v.modelId,
      version: v.version,
      change: JSON.stringify(v.change),
      fields: JSON.stringify(v.fields),
      name: v.name,
      actor: v.actor,
    })
    .execute();
}

export function listVersions(db: Exec, modelId: string) {
  return db
    .selectFrom('model_versions')
    .select(['version', 'name', 'change', 'fields', 'actor', 'created_at'])
    .where('model_id', '=', modelId)
    .orderBy('version', 'desc')
    .execute();
}
