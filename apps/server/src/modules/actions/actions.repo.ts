import type { ColumnType, Kysely } from 'kysely';
import type { Param, Step } from './definition.js';

type Json<T> = ColumnType<T, string, string>;
export interface ActionsTable {
  id: string;
  org_id: string;
  name: string;
  description: string;
  params: Json<Param[]>;
  steps: Json<Step[]>;
  created_by: string | null;
  /** Raised by every change; the ETag (0012). */
  version: ColumnType<number, never, number>;
  created_at: ColumnType<Date, never, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}
export interface ActionRunsTable {
  id: string;
  org_id: string;
  action_id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  input: Json<unknown>;
  output: ColumnType<unknown, string | null, string | null>;
  error: ColumnType<unknown, string | null, string | null>;
  logs: Json<{ at: string; step: string | null; message: string }[]>;
  actor: string | null;
  started_at: ColumnType<Date | null, Date | null, Date | null>;
  finished_at: ColumnType<Date | null, Date | null, Date | null>;
  duration_ms: number | null;
  created_at: ColumnType<Date, never, never>;
}
export interface ActionTables {
  actions: ActionsTable;
  action_runs: ActionRunsTable;
}
type Db = Kysely<ActionTables>;

const cols = ['id', 'name', 'description', 'params', 'steps', 'created_by', 'version', 'created_at', 'updated_at'] as const;
const runCols = ['id', 'action_id', 'status', 'input', 'output', 'error', 'logs', 'actor', 'started_at', 'finished_at', 'duration_ms', 'created_at'] as const;

export const listActions = (db: Db, orgId: string, limit: number, offset: number) =>
  db.selectFrom('actions').select(cols).where('org_id', '=', orgId).orderBy('name').limit(limit).offset(offset).execute();
export const countActions = async (db: Db, orgId: string) =>
  Number(
    (
      await db
        .selectFrom('actions')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where('org_id', '=', orgId)
        .executeTakeFirstOrThrow()
    ).n,
  );
export const findAction = (db: Db, orgId: string, id: string) =>
  db.selectFrom('actions').select(cols).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
export const insertAction = (db: Db, a: { id: string; orgId: string; name: string; description: string; params: Param[]; steps: Step[]; createdBy: string }) =>
  db
    .insertInto('actions')
    .values({
      id: a.id,
      org_id: a.orgId,
      name: a.name,
      description: a.description,
      params: JSON.stringify(a.params),
      steps: JSON.stringify(a.steps),
      created_by: a.createdBy,
    })
    .returning(cols)
    .executeTakeFirstOrThrow();
/** The action row, locked until the transaction ends: a write checks its If-Match against it. */
export const lockAction = (db: Db, orgId: string, id: string) =>
  db.selectFrom('actions').select(cols).where('org_id', '=', orgId).where('id', '=', id).forUpdate().executeTakeFirst();
export const updateAction = (db: Db, orgId: string, id: string, a: { name: string; description: string; params: Param[]; steps: Step[] }) =>
  db
    .updateTable('actions')
    .set((e) => ({
      name: a.name,
      description: a.description,
      params: JSON.stringify(a.params),
      steps: JSON.stringify(a.steps),
      version: e('version', '+', 1),
      updated_at: new Date(),
    }))
    .where('org_id', '=', orgId)
    .where('id', '=', id)
    .returning(cols)
    .executeTakeFirst();
export const deleteAction = (db: Db, orgId: string, id: string) =>
  db.deleteFrom('actions').where('org_id', '=', orgId).where('id', '=', id).returning('id').executeTakeFirst();

export const insertRun = (db: Db, r: { id: string; orgId: string; actionId: string; input: unknown; actor: string }) =>
  db
    .insertInto('action_runs')
    .values({
      id: r.id,
      org_id: r.orgId,
      action_id: r.actionId,
      status: 'running',
      input: JSON.stringify(r.input),
      output: null,
      error: null,
      logs: '[]',
      actor: r.actor,
      started_at: new Date(),
      finished_at: null,
      duration_ms: null,
    })
    .execute();
export const finishRun = (db: Db, id: string, r: { status: 'succeeded' | 'failed'; output: unknown; error: unknown; logs: unknown[]; durationMs: number }) =>
  db
    .updateTable('action_runs')
    .set({
      status: r.status,
      output: r.output === undefined ? null : JSON.stringify(r.output),
      error: r.error === undefined ? null : JSON.stringify(r.error),
      logs: JSON.stringify(r.logs),
      finished_at: new Date(),
      duration_ms: r.durationMs,
    })
    .where('id', '=', id)
    .execute();
export const listRuns = (db: Db, orgId: string, actionId: string, limit: number, offset: number) =>
  db
    .selectFrom('action_runs')
    .select(runCols)
    .where('org_id', '=', orgId)
    .where('action_id', '=', actionId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .offset(offset)
    .execute();
export const countRuns = async (db: Db, orgId: string, actionId: string) =>
  Number(
    (
      await db
        .selectFrom('action_runs')
        .select((e) => e.fn.countAll<string>().as('n'))
        .where('org_id', '=', orgId)
        .where('action_id', '=', actionId)
        .executeTakeFirstOrThrow()
    ).n,
  );
export const findRun = (db: Db, orgId: string, id: string) =>
  db.selectFrom('action_runs').select(runCols).where('org_id', '=', orgId).where('id', '=', id).executeTakeFirst();
