import { type QueryExecutorProvider, type RawBuilder, sql } from 'kysely';
import { type ExecutionStatus, type TransitionName, checkTransition, sourcesOf, targetsOf } from './execution-lifecycle.js';
import { storedValue } from './executions.repo.js';
import type { NodeRunRecord, WaitState } from '../engine/index.js';

/**
 * Every statement that writes `executions.status`: each applies one move of the lifecycle
 * (execution-lifecycle.ts) — updates through `transitionSql`, inserts checked by
 * `checkTransition` — and every move made by the holder of a lease is fenced by it as well.
 */

type Db = QueryExecutorProvider;
const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
const statusList = (xs: readonly ExecutionStatus[]) => sql.join(xs.map((x) => sql.lit(x)));

/**
 * Applies lifecycle move `name` to the executions (alias `e`) that `where` selects: one UPDATE
 * guarded by `e.status in (<the states the move starts from>)`. A row in any other state is not
 * touched — the move is refused, and the caller sees it in the rows affected or returned (a claim
 * that lost the race, a finish after a cancel). `to` is a status, or for a batch whose rows end
 * differently an SQL expression, then guarded to the move's targets as well. Moves that create the
 * row (queue, start, record) are inserts: they check their status with checkTransition.
 */
export function transitionSql(
  name: TransitionName,
  q: {
    to: ExecutionStatus | RawBuilder<unknown>;
    set?: RawBuilder<unknown>;
    from?: RawBuilder<unknown>;
    where: RawBuilder<unknown>;
    returning?: RawBuilder<unknown>;
  },
): RawBuilder<unknown> {
  const sources = sourcesOf(name);
  if (sources.length === 0) throw new Error(`Execution move "${name}" creates the row: it is an insert, not an update.`);
  const to = typeof q.to === 'string' ? sql.lit(checkTransition(name, q.to)) : q.to;
  const targetGuard = typeof q.to === 'string' ? sql`` : sql`and ${q.to} in (${statusList(targetsOf(name))})`;
  return sql`update executions e set status = ${to}${q.set ? sql`, ${q.set}` : sql``} ${q.from ? sql`from ${q.from}` : sql``}
    where (${q.where}) and e.status in (${statusList(sources)}) ${targetGuard} ${q.returning ? sql`returning ${q.returning}` : sql``}`;
}

/** Applies a move (transitionSql) on its own; returns how many executions it moved. */
export async function applyTransition(db: Db, name: TransitionName, q: Parameters<typeof transitionSql>[1]): Promise<number> {
  return Number((await transitionSql(name, q).execute(db)).numAffectedRows ?? 0);
}

export interface NewExecution {
  id: string;
  orgId: string;
  flowId: string;
  flowVersion: number;
  trigger: string;
  startNode: string | null;
  input: unknown;
  storeData: boolean;
  usePins: boolean;
  parentId?: string | null;
  /** Claimed at once by this owner (the fast path runs it in the receiving process). */
  owner?: string;
  leaseMs: number;
}

/** The error of an execution failed for being taken over too often (ExecutionRunner, maxReclaims). */
export const crashedTooOften = (maxReclaims: number) => ({
  nodeId: null,
  code: 'EXECUTION_CRASHED_TOO_OFTEN',
  message: `The execution was taken over ${maxReclaims} time(s) after its worker stopped mid-run (crashed, killed or out of memory) and stopped again each time: it was failed instead of being claimed again. See the worker's logs; INFINITY_EXECUTION_MAX_RECLAIMS sets the limit.`,
});

export interface Claimed {
  /** Now held by the claiming owner. */
  ids: string[];
  /** Failed instead of claimed: taken over `maxReclaims` times already (EXECUTION_CRASHED_TOO_OFTEN). */
  failed: { id: string; org_id: string; flow_id: string }[];
}

/**
 * Claims up to `limit` runnable executions for `owner`: queued and due, or running with an expired
 * lease (a takeover after its worker died, counted in `reclaims`; not when the lapsed lease is the
 * claimer's own: a stalled event loop is not a crash, and the runner goes on with its run). In the same statement, a running
 * execution whose lease ran out after `maxReclaims` takeovers already (its worker keeps dying on
 * it) is failed with EXECUTION_CRASHED_TOO_OFTEN instead of being claimed again.
 */
export async function claim(db: Db, owner: string, limit: number, leaseMs: number, maxReclaims = 1_000_000): Promise<Claimed> {
  const lease = sql`now() + ${`${leaseMs} milliseconds`}::interval`;
  const crashed = transitionSql('abandon', {
    to: 'failed',
    set: sql`error = ${JSON.stringify(crashedTooOften(maxReclaims))}::jsonb, finished_at = now(),
      duration_ms = extract(epoch from (now() - coalesce(started_at, created_at))) * 1000, lease_owner = null, lease_until = null`,
    where: sql`e.id in (select id from executions where status = 'running' and lease_until < now() and reclaims >= ${maxReclaims} for update skip locked)`,
    returning: sql`e.id, e.org_id, e.flow_id`,
  });
  const claimed = transitionSql('claim', {
    to: 'running',
    set: sql`lease_owner = ${owner}, lease_until = ${lease}, claims = claims + 1,
      reclaims = reclaims + (case when status = 'running' and lease_owner is distinct from ${owner} then 1 else 0 end), started_at = coalesce(started_at, now())`,
    where: sql`e.id in (
        select id from executions
        where (status = 'queued' and run_at <= now()) or (status = 'waiting' and run_at <= now()) or (status = 'running' and lease_until < now() and reclaims < ${maxReclaims})
        order by run_at limit ${limit} for update skip locked)`,
    returning: sql`e.id, e.org_id, e.flow_id`,
  });
  const r = await sql<{ id: string; org_id: string; flow_id: string; claimed: boolean }>`
    with crashed as (${crashed}), claimed as (${claimed})
    select id, org_id, flow_id, true as claimed from claimed union all select id, org_id, flow_id, false as claimed from crashed`.execute(db);
  return {
    ids: r.rows.filter((x) => x.claimed).map((x) => x.id),
    failed: r.rows.filter((x) => !x.claimed).map(({ id, org_id, flow_id }) => ({ id, org_id, flow_id })),
  };
}

export interface FastFinish {
  id: string;
  runs: NodeRunRecord[];
  store: { data: boolean; cap: number };
  status: 'succeeded' | 'failed';
  output: unknown;
  error: unknown;
  steps: number;
  storeOutput: boolean;
}

/** Node runs as the batch statements below read them (jsonb_to_recordset). */
const runRows = (f: { runs: NodeRunRecord[]; store: { data: boolean; cap: number } }) =>
  f.runs.map((r) => ({
    node_id: r.nodeId,
    node_name: r.nodeName,
    node_type: r.nodeType,
    status: r.status,
    ports: storedValue(r.ports, f.store),
    input: storedValue(r.input, f.store),
    error: r.error,
    logs: r.logs,
    attempts: r.attempts,
    data_stored: f.store.data,
    started_at: r.startedAt.toISOString(),
    finished_at: r.finishedAt.toISOString(),
    duration_ms: r.finishedAt.getTime() - r.startedAt.getTime(),
  }));

/** Inserts the `runs` of each row of the CTE `d` whose id the CTE `written` returned. */
const insertRuns = (written: string) => sql`
  insert into node_runs (execution_id, node_id, node_name, node_type, status, ports, input, error, logs, attempts, data_stored, started_at, finished_at, duration_ms)
  select f.id, x.node_id, x.node_name, x.node_type, x.status, x.ports, x.input, x.error, x.logs, x.attempts, x.data_stored, x.started_at, x.finished_at, x.duration_ms
  from ${sql.raw(written)} f join d on d.id = f.id
  cross join lateral jsonb_to_recordset(d.runs) as x(node_id text, node_name text, node_type text, status text, ports jsonb, input jsonb, error jsonb, logs jsonb, attempts int, data_stored boolean, started_at timestamptz, finished_at timestamptz, duration_ms double precision)`;

/**
 * The fast path's write at the end, for many executions at once (group commit): every node run
 * and the result of each, in one statement, each fenced by its lease. Returns, per item, whether
 * it was written (false: the lease was lost or the execution canceled).
 */
export async function finishManyWithRuns(db: Db, owner: string, items: FastFinish[]): Promise<boolean[]> {
  const data = items.map((f) => ({
    id: f.id,
    status: f.status,
    output: f.storeOutput ? (f.output ?? null) : null,
    error: f.error ?? null,
    steps: f.steps,
    runs: runRows(f),
  }));
  const fenced = transitionSql('finish', {
    to: sql`d.status`,
    set: sql`output = d.output, input = case when e.store_data then e.input else null end, error = d.error, steps = d.steps,
      finished_at = now(), duration_ms = extract(epoch from (now() - e.started_at)) * 1000, lease_owner = null, lease_until = null`,
    from: sql`d`,
    where: sql`e.id = d.id and e.lease_owner = ${owner}`,
    returning: sql`e.id`,
  });
  const r = await sql<{ id: string }>`with d as (
      select * from jsonb_to_recordset(${JSON.stringify(data)}::jsonb) as x(id uuid, status text, output jsonb, error jsonb, steps int, runs jsonb)),
    fenced as (${fenced}),
    runs as (${insertRuns('fenced')})
    select id from fenced`.execute(db);
  const ok = new Set(r.rows.map((x) => x.id));
  return items.map((f) => ok.has(f.id));
}

/** A finished fast-path run of a pure flow, written for the first time (NodeDefinition.pure). */
export interface FastRecord extends FastFinish {
  execution: Omit<NewExecution, 'owner' | 'leaseMs'>;
  startedAt: Date;
  finishedAt: Date;
}

/** Writes finished pure runs, each with its node runs, in one statement (group commit). */
export async function recordManyWithRuns(db: Db, items: FastRecord[]): Promise<boolean[]> {
  const data = items.map((f) => {
    const e = f.execution;
    return {
      id: f.id,
      org_id: e.orgId,
      flow_id: e.flowId,
      flow_version: e.flowVersion,
      trigger: e.trigger,
      start_node: e.startNode,
      input: e.storeData ? (e.input ?? null) : null,
      store_data: e.storeData,
      use_pins: e.usePins,
      parent_id: e.parentId ?? null,
      status: checkTransition('record', f.status, null),
      output: f.storeOutput ? (f.output ?? null) : null,
      error: f.error ?? null,
      steps: f.steps,
      started_at: f.startedAt.toISOString(),
      finished_at: f.finishedAt.toISOString(),
      duration_ms: f.finishedAt.getTime() - f.startedAt.getTime(),
      runs: runRows(f),
    };
  });
  await sql`with d as (
      select * from jsonb_to_recordset(${JSON.stringify(data)}::jsonb) as x(id uuid, org_id uuid, flow_id uuid, flow_version int, trigger text, start_node text, input jsonb,
        store_data boolean, use_pins boolean, parent_id uuid, status text, output jsonb, error jsonb, steps int, started_at timestamptz, finished_at timestamptz, duration_ms double precision, runs jsonb)),
    written as (
      insert into executions (id, org_id, flow_id, flow_version, status, trigger, start_node, input, output, error, store_data, use_pins, parent_id, claims, steps, run_at, started_at, finished_at, duration_ms, created_at)
      select id, org_id, flow_id, flow_version, status, trigger, start_node, input, output, error, store_data, use_pins, parent_id, 1, steps, started_at, started_at, finished_at, duration_ms, started_at
      from d returning id)
    ${insertRuns('written')}`.execute(db);
  return items.map(() => true);
}

/**
 * Inserts many executions in one statement (group commit of the fast path and of enqueues). NB: an id that exists already is skipped, not an error:
 * a record trigger derives its execution's id from the event, and two processes delivering the same
 * event at once (a lease lapsing mid-handle) must not fail the other executions of the batch.
 */
export async function insertExecutions(db: Db, list: NewExecution[]): Promise<boolean[]> {
  const data = list.map((e) => ({
    id: e.id,
    org_id: e.orgId,
    flow_id: e.flowId,
    flow_version: e.flowVersion,
    // Queued for any worker, or (the fast path) running already, held by the process that runs it.
    status: e.owner ? checkTransition('start', 'running', null) : checkTransition('queue', 'queued', null),
    trigger: e.trigger,
    start_node: e.startNode,
    input: e.input ?? null,
    store_data: e.storeData,
    use_pins: e.usePins,
    parent_id: e.parentId ?? null,
    owner: e.owner ?? null,
    lease_ms: e.leaseMs,
  }));
  const { rows } = await sql<{
    id: string;
  }>`insert into executions (id, org_id, flow_id, flow_version, status, trigger, start_node, input, store_data, use_pins, parent_id, lease_owner, lease_until, claims, started_at)
    select x.id, x.org_id, x.flow_id, x.flow_version, x.status, x.trigger, x.start_node, x.input, x.store_data, x.use_pins, x.parent_id,
      x.owner, case when x.owner is null then null else now() + make_interval(secs => x.lease_ms / 1000.0) end, case when x.owner is null then 0 else 1 end, case when x.owner is null then null else now() end
    from jsonb_to_recordset(${JSON.stringify(data)}::jsonb) as x(id uuid, org_id uuid, flow_id uuid, flow_version int, status text, trigger text, start_node text, input jsonb, store_data boolean, use_pins boolean, parent_id uuid, owner text, lease_ms int)
    on conflict (id) do nothing
    returning id`.execute(db);
  const inserted = new Set(rows.map((r) => r.id));
  return list.map((e) => inserted.has(e.id));
}

export async function finishExecution(
  db: Db,
  id: string,
  owner: string,
  f: { status: 'succeeded' | 'failed'; output: unknown; error: unknown; steps: number; storeOutput: boolean },
): Promise<boolean> {
  // Without consumer data the input was kept only while the execution ran (a crash resumes it).
  return (
    (await applyTransition(db, 'finish', {
      to: f.status,
      set: sql`output = ${f.storeOutput ? json(f.output) : null}::jsonb, input = case when store_data then input else null end, error = ${json(f.error)}::jsonb, steps = ${f.steps},
        finished_at = now(), duration_ms = extract(epoch from (now() - started_at)) * 1000, lease_owner = null, lease_until = null`,
      where: sql`e.id = ${id} and e.lease_owner = ${owner}`,
    })) === 1
  );
}

/** Cancels an execution that has not ended; false when it had (or does not exist in this organization). */
export async function cancelExecution(db: Db, orgId: string, id: string): Promise<boolean> {
  const moved = await applyTransition(db, 'cancel', {
    to: 'canceled',
    set: sql`finished_at = now(), duration_ms = extract(epoch from (now() - coalesce(started_at, created_at))) * 1000, lease_owner = null, lease_until = null`,
    where: sql`e.id = ${id} and e.org_id = ${orgId}`,
  });
  return moved === 1;
}

/** Parks an execution at a wait node: no lease held; due again at `resumeAt` (a webhook wait's timeout). */
export async function parkExecution(db: Db, id: string, owner: string, wait: WaitState): Promise<boolean> {
  const moved = await applyTransition(db, 'park', {
    to: 'waiting',
    set: sql`wait = ${JSON.stringify(wait)}::jsonb, run_at = ${wait.resumeAt}::timestamptz, lease_owner = null, lease_until = null`,
    where: sql`e.id = ${id} and e.lease_owner = ${owner}`,
  });
  return moved === 1;
}
