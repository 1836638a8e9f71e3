import { type ColumnType, type Kysely, sql } from 'kysely';
import { keyText, keyValue } from '../../platform/db/index.js';
import type { FlowEdge, FlowNode, FlowSettings } from '../engine/index.js';

type Json<T> = ColumnType<T, string, string>;

export interface PublishSettings {
  slug: string;
  access: 'public' | 'apiKey';
  storeConsumerData: boolean;
}

export interface FlowsTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  nodes: Json<FlowNode[]>;
  edges: Json<FlowEdge[]>;
  settings: Json<FlowSettings>;
  version: number;
  active: ColumnType<boolean, boolean | undefined, boolean>;
  slug: string | null;
  publish: ColumnType<PublishSettings | null, string | null, string | null>;
  created_by: string | null;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** A saved version: the graph columns of a flow as they were. */
export type FlowVersionsTable = Pick<
  FlowsTable,
  'version' | 'org_id' | 'name' | 'description' | 'nodes' | 'edges' | 'settings' | 'created_by' | 'created_at'
> & { flow_id: string };

export interface FlowTables {
  flows: FlowsTable;
  flow_versions: FlowVersionsTable;
}

type Db = Kysely<FlowTables>;
const cols = [
  'id',
  'org_id',
  'name',
  'description',
  'nodes',
  'edges',
  'settings',
  'version',
  'active',
  'slug',
  'publish',
  'created_by',
  'created_at',
  'updated_at',
] as const;
export type FlowRow = Awaited<ReturnType<typeof findFlow>> & object;

export interface FlowWrite {
  name: string;
  description: string;
  nodes: FlowNode[];
  edges: FlowEdge[];
  settings: FlowSettings;
}

export const findFlow = (db: Db, orgId: string, id: string) =>
  db.selectFrom('flows').select(cols).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
/** The flow row, locked until the transaction ends: a write checks its If-Match against it. */
export const lockFlow = (db: Db, orgId: string, id: string) =>
  db.selectFrom('flows').select(cols).where('org_id', '=', orgId).where('id', '=', id).forUpdate().executeTakeFirst();
export const findFlowById = (db: Db, id: string) => db.selectFrom('flows').select(cols).where('id', '=', id).executeTakeFirst();
export const findFlowBySlug = (db: Db, slug: string) => db.selectFrom('flows').select(cols).where('slug', '=', slug).executeTakeFirst();
export const activeFlows = (db: Db) => db.selectFrom('flows').select(cols).where('active', '=', true).execute();

/** A page of a list: `after` holds the sort values of the last row of the previous page (keyset). */
export interface PageWindow {
  limit: number;
  offset: number;
  after?: string[] | undefined;
}

/** Newest first, id breaking ties; `cursor_at` is created_at as exact text for the next cursor. */
export function listFlows(db: Db, orgId: string, w: PageWindow) {
  let q = db
    .selectFrom('flows')
    .select(cols)
    .select(keyText(sql.ref('created_at')).as('cursor_at'))
    .where('org_id', '=', orgId);
  if (w.after) q = q.where(sql<boolean>`(created_at, id) < (${keyValue('timestamptz', w.after[0]!)}, ${keyValue('uuid', w.after[1]!)})`);
  return q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(w.limit).offset(w.offset).execute();
}
export const countFlows = async (db: Db, orgId: string) =>
  Number(
    (
      await db
        .selectFrom('flows')
        .select((e) => e.fn.countAll().as('n'))
        .where('org_id', '=', orgId)
        .executeTakeFirstOrThrow()
    ).n,
  );

const jsonOf = (f: FlowWrite) => ({
  name: f.name,
  description: f.description,
  nodes: JSON.stringify(f.nodes),
  edges: JSON.stringify(f.edges),
  settings: JSON.stringify(f.settings),
});

export async function insertFlow(db: Db, orgId: string, id: string, f: FlowWrite, createdBy: string) {
  const row = await db
    .insertInto('flows')
    .values({ id, org_id: orgId, ...jsonOf(f), version: 1, created_by: createdBy })
    .returning(cols)
    .executeTakeFirstOrThrow();
  await insertVersion(db, row.id, orgId, 1, f, createdBy);
  return row;
}

export async function updateFlow(db: Db, orgId: string, id: string, f: FlowWrite, by: string) {
  const row = await db
    .updateTable('flows')
    .set((e) => ({ ...jsonOf(f), version: e('version', '+', 1), updated_at: new Date() }))
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning(cols)
    .executeTakeFirst();
  if (row) await insertVersion(db, id, orgId, row.version, f, by);
  return row;
}

const insertVersion = (db: Db, flowId: string, orgId: string, version: number, f: FlowWrite, by: string) =>
  db
    .insertInto('flow_versions')
    .values({ flow_id: flowId, org_id: orgId, version, ...jsonOf(f), created_by: by })
    .execute();

export const setActive = (db: Db, orgId: string, id: string, active: boolean) =>
  db.updateTable('flows').set({ active, updated_at: new Date() }).where('org_id', '=', orgId).where('id', '=', id).returning(cols).executeTakeFirst();

export const setPublish = (db: Db, orgId: string, id: string, publish: PublishSettings | null) =>
  db
    .updateTable('flows')
    .set({ slug: publish?.slug ?? null, publish: publish ? JSON.stringify(publish) : null, updated_at: new Date() })
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning(cols)
    .executeTakeFirst();

export const deleteFlow = (db: Db, orgId: string, id: string) =>
  db.deleteFrom('flows').where('org_id', '=', orgId).where('id', '=', id).returning(['id', 'active']).executeTakeFirst();

/** Newest version first; a version number is unique in its flow, so it alone is the cursor. */
export function listVersions(db: Db, flowId: string, w: PageWindow) {
  let q = db.selectFrom('flow_versions').select(['version', 'name', 'created_by', 'created_at']).where('flow_id', '=', flowId);
  if (w.after) q = q.where('version', '<', Number(w.after[0]));
  return q.orderBy('version', 'desc').limit(w.limit).offset(w.offset).execute();
}
export const findVersion = (db: Db, flowId: string, version: number) =>
  db
    .selectFrom('flow_versions')
    .select(['flow_id', 'version', 'name', 'description', 'nodes', 'edges', 'settings', 'created_by', 'created_at'])
    .where('flow_id', '=', flowId)
    .where('version', '=', version)
    .executeTakeFirst();
