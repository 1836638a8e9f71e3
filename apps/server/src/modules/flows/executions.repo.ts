import { type QueryExecutorProvider, sql } from 'kysely';
import type { FlowGraph, NodeRunRecord, WaitState } from '../engine/index.js';
import { keyText, keyValue } from '../../platform/db/index.js';
import type { ExecutionStatus } from './execution-lifecycle.js';

/**
 * Executions are also the work queue: a worker claims queued rows (or rows whose lease ran out:
 * their worker died) with FOR UPDATE SKIP LOCKED, holds them with a lease it renews, and every
 * write it makes is fenced by that lease, so a worker that lost its lease cannot write over the
 * worker that took the execution over.
 *
 * No statement here writes `executions.status`: those are the lifecycle's moves, all in
 * execution-status.repo.ts.
 */

export type { ExecutionStatus };

export interface ExecutionRow {
  id: string;
  org_id: string;
  flow_id: string;
  flow_version: number;
  status: ExecutionStatus;
  trigger: string;
  start_node: string | null;
  input: unknown;
  output: unknown;
  error: unknown;
  store_data: boolean;
  use_pins: boolean;
  parent_id: string | null;
  /** Where a waiting execution is parked; `resumed` holds the resume call's body. */
  wait: (WaitState & { resumed?: unknown }) | null;
  lease_owner: string | null;
  claims: number;
  steps: number;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  created_at: Date;
}

export interface NodeRunRow {
  id: number;
  node_id: string;
  node_name: string;
  node_type: string;
  status: 'succeeded' | 'failed';
  ports: Record<string, unknown> | null;
  input: unknown;
  error: unknown;
  logs: unknown;
  attempts: number;
  data_stored: boolean;
  started_at: Date;
  finished_at: Date;
  duration_ms: number;
}

type Db = QueryExecutorProvider;
const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
export async function renewLeases(db: Db, owner: string, ids: string[], leaseMs: number): Promise<string[]> {
  if (ids.length === 0) return [];
  const r = await sql<{ id: string }>`update executions set lease_until = now() + ${`${leaseMs} milliseconds`}::interval
    where id = any(${ids}::uuid[]) and lease_owner = ${owner} and status = 'running' returning id`.execute(db);
  return r.rows.map((x) => x.id);
}

export async function findExecution(db: Db, id: string, orgId?: string): Promise<ExecutionRow | undefined> {
  const r = await sql<ExecutionRow>`select * from executions where id = ${id} ${orgId ? sql`and org_id = ${orgId}` : sql``}`.execute(db);
  return r.rows[0];
}

export async function nodeRuns(db: Db, executionId: string): Promise<NodeRunRow[]> {
  return (
    await sql<NodeRunRow>`select id, node_id, node_name, node_type, status, ports, input, error, logs, attempts, data_stored, started_at, finished_at, duration_ms from node_runs where execution_id = ${executionId} order by id`.execute(
      db,
    )
  ).rows;
}

/** Drops the stored node runs of an execution (a claimed run that kept no data starts over). */
export async function forgetNodeRuns(db: Db, executionId: string): Promise<void> {
  await sql`delete from node_runs where execution_id = ${executionId}`.execute(db);
}

/** The graph of one version of a flow (what its executions run). */
export async function flowGraph(db: Db, flowId: string, version: number): Promise<FlowGraph | undefined> {
  return (await sql<FlowGraph>`select nodes, edges, settings from flow_versions where flow_id = ${flowId} and version = ${version}`.execute(db)).rows[0];
}

/** The current version of a flow of the organization (an error flow is run at it). */
export async function currentFlowVersion(db: Db, orgId: string, flowId: string): Promise<number | undefined> {
  return (await sql<{ version: number }>`select version from flows where id = ${flowId} and org_id = ${orgId}`.execute(db)).rows[0]?.version;
}

/** A node input or output as stored: null without consumer data, a marked preview past the cap. */
export const storedValue = (v: unknown, store: { data: boolean; cap: number }): unknown => {
  if (!store.data || v === undefined) return null;
  const s = JSON.stringify(v);
  return s.length > store.cap ? { $truncated: true, bytes: s.length, preview: s.slice(0, 1000) } : v;
};

/**
 * Stores a finished node, only while `owner` still holds the execution (fencing): returns false
 * when the lease was lost or the execution canceled, and the caller stops.
 */
export async function saveNodeRun(db: Db, executionId: string, owner: string, run: NodeRunRecord, store: { data: boolean; cap: number }): Promise<boolean> {
  const cap = (v: unknown) => {
    const c = storedValue(v, store);
    return c === null ? null : JSON.stringify(c);
  };
  const r =
    await sql`insert into node_runs (execution_id, node_id, node_name, node_type, status, ports, input, error, logs, attempts, data_stored, started_at, finished_at, duration_ms)
    select ${executionId}, ${run.nodeId}, ${run.nodeName}, ${run.nodeType}, ${run.status}, ${cap(run.ports)}::jsonb, ${cap(run.input)}::jsonb, ${json(run.error)}::jsonb, ${JSON.stringify(run.logs)}::jsonb,
      ${run.attempts}, ${store.data}, ${run.startedAt.toISOString()}::timestamptz, ${run.finishedAt.toISOString()}::timestamptz, ${run.finishedAt.getTime() - run.startedAt.getTime()}
    where exists (select 1 from executions where id = ${executionId} and lease_owner = ${owner} and status = 'running')`.execute(db);
  return Number(r.numAffectedRows ?? 0) === 1;
}

export interface ExecutionFilter {
  orgId: string;
  flowId?: string;
  status?: ExecutionStatus;
  limit: number;
  offset: number;
  /** Keyset: only executions after this (created_at as exact text, id) in the list's order. */
  after?: string[] | undefined;
}

/**
 * Newest first; `cursor_at` is created_at as exact text (microseconds) for the next cursor.
 * NB: many executions share a created_at (one batch of triggers): id breaks the tie.
 */
export async function listExecutions(db: Db, f: ExecutionFilter): Promise<(ExecutionRow & { cursor_at: string })[]> {
  const after = f.after ? sql`and (created_at, id) < (${keyValue('timestamptz', f.after[0]!)}, ${keyValue('uuid', f.after[1]!)})` : sql``;
  return (
    await sql<
      ExecutionRow & { cursor_at: string }
    >`select id, org_id, flow_id, flow_version, status, trigger, start_node, null as input, null as output, error, store_data, use_pins, parent_id, lease_owner, claims, steps, started_at, finished_at, duration_ms, created_at, ${keyText(sql.ref('created_at'))} as cursor_at
      from executions where org_id = ${f.orgId} ${f.flowId ? sql`and flow_id = ${f.flowId}` : sql``} ${f.status ? sql`and status = ${f.status}` : sql``} ${after}
      order by created_at desc, id desc limit ${f.limit} offset ${f.offset}`.execute(db)
  ).rows;
}

/** How many executions the list pages through with the same filter (meta.total). */
export async function countExecutions(db: Db, f: Pick<ExecutionFilter, 'orgId' | 'flowId' | 'status'>): Promise<number> {
  const r = await sql<{
    n: number;
  }>`select count(*)::int as n from executions where org_id = ${f.orgId} ${f.flowId ? sql`and flow_id = ${f.flowId}` : sql``} ${f.status ? sql`and status = ${f.status}` : sql``}`.execute(
    db,
  );
  return r.rows[0]?.n ?? 0;
}

/** A resume call: records its body and makes the parked execution due now. */
export async function resumeWaiting(db: Db, id: string, body: unknown): Promise<{ org_id: string } | undefined> {
  const r = await sql<{
    org_id: string;
  }>`update executions set wait = wait || jsonb_build_object('resumed', ${JSON.stringify(body ?? null)}::jsonb), run_at = now()
    where id = ${id} and status = 'waiting' and (wait->>'webhook')::boolean and not (wait ? 'resumed') returning org_id`.execute(db);
  return r.rows[0];
}

/** On claiming a parked execution: its wait node is stored as done, and the wait cleared. */
export async function settleWait(db: Db, id: string, owner: string, run: NodeRunRecord, store: { data: boolean; cap: number }): Promise<void> {
  if (await saveNodeRun(db, id, owner, run, store)) await sql`update executions set wait = null where id = ${id}`.execute(db);
}

/** Erases a stored output once its waiter has read it (executions that keep no consumer data). */
export async function forgetOutput(db: Db, id: string): Promise<void> {
  await sql`update executions set output = null where id = ${id} and store_data = false`.execute(db);
}

/**
 * Checkpoints a completed loop item (a loop whose body has effects), fenced by the lease like a
 * node run. A second write of the same item (a concurrent takeover) keeps the first.
 */
export async function saveLoopItem(db: Db, executionId: string, owner: string, nodeId: string, item: string, result: unknown): Promise<boolean> {
  const r = await sql`insert into loop_items (execution_id, node_id, item, result)
    select ${executionId}, ${nodeId}, ${item}, ${json(result)}::jsonb
    where exists (select 1 from executions where id = ${executionId} and lease_owner = ${owner} and status = 'running')
    on conflict do nothing`.execute(db);
  if (Number(r.numAffectedRows ?? 0) === 1) return true;
  // Nothing written: the lease is gone, or the item was checkpointed already (still ours: go on).
  return (await sql`select 1 from executions where id = ${executionId} and lease_owner = ${owner} and status = 'running'`.execute(db)).rows.length === 1;
}

/** The checkpointed loop items of an execution, by `nodeId:item` (ExecutionPlan.priorItems). */
export async function loopItems(db: Db, executionId: string): Promise<Map<string, unknown>> {
  const r = await sql<{
    node_id: string;
    item: string;
    result: unknown;
  }>`select node_id, item, result from loop_items where execution_id = ${executionId}`.execute(db);
  return new Map(r.rows.map((x) => [`${x.node_id}:${x.item}`, x.result]));
}

/** Drops the loop checkpoints of a finished execution (the loop node's run carries the results). */
export async function forgetLoopItems(db: Db, executionId: string): Promise<void> {
  await sql`delete from loop_items where execution_id = ${executionId}`.execute(db);
}

/**
 * Applies a node's effect once per idempotency key (`executionId:nodeId[:item]`): inside the
 * transaction `trx` that makes the effect, looks the key up and returns the stored result if the
 * effect was applied already (a step run again after a crash); otherwise runs it and stores its
 * result with the key in the same transaction. Two workers racing on one key: the second insert
 * fails on the primary key and its transaction (its effect with it) rolls back.
 */
export async function onceInTransaction<T>(trx: Db, executionId: string, key: string, run: () => Promise<T>): Promise<T> {
  const done = (await sql<{ result: T }>`select result from flow_effects where execution_id = ${executionId} and key = ${key}`.execute(trx)).rows[0];
  if (done) return done.result;
  const result = await run();
  await sql`insert into flow_effects (execution_id, key, result) values (${executionId}, ${key}, ${json(result ?? null)}::jsonb)`.execute(trx);
  return result;
}

/** Copies the stored runs of the given nodes into another execution (re-run from a node). */
export async function copyNodeRuns(db: Db, from: string, to: string, nodeIds: string[]): Promise<void> {
  if (nodeIds.length === 0) return;
  await sql`insert into node_runs (execution_id, node_id, node_name, node_type, status, ports, input, error, logs, attempts, data_stored, started_at, finished_at, duration_ms)
    select ${to}, node_id, node_name, node_type, status, ports, input, error, logs, attempts, data_stored, started_at, finished_at, duration_ms
    from node_runs where execution_id = ${from} and node_id = any(${nodeIds}::text[]) order by id`.execute(db);
}

/** Retention: deletes finished executions older than the cutoff (per-flow settings override). */
export async function pruneExecutions(db: Db, defaultDays: number): Promise<number> {
  const r = await sql`delete from executions e using flows f
    where e.flow_id = f.id and e.status in ('succeeded', 'failed', 'canceled')
      and e.created_at < now() - make_interval(days => coalesce((f.settings->>'retentionDays')::int, ${defaultDays}))`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
