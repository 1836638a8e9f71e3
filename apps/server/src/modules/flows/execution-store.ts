import type { NewEvent } from '@infinity/contracts';
import type { Kysely } from 'kysely';
import { Batcher, type UnitOfWork, inTransaction } from '../../platform/db/index.js';
import type { ExecutionResult, NodeRunRecord, WaitState } from '../engine/index.js';
import type { ExecutionEnd, ExecutionEvents, ExecutionRef } from './execution-events.js';
import * as statusRepo from './execution-status.repo.js';
import * as repo from './executions.repo.js';

/**
 * How an execution is written, behind one interface with three implementations; the runner asks
 * `ExecutionStores.choose` once per run, and nothing else decides.
 *
 * | path     | when                                         | before the first node         | each node            | at the end                                 |
 * |----------|----------------------------------------------|-------------------------------|----------------------|--------------------------------------------|
 * | `queued` | queued runs, and every claimed run (takeover) | row `queued` (a worker claims) | stored, lease-fenced | result, lease-fenced                       |
 * | `inline` | the fast path (caller waits), impure flows    | row `running`, leased here     | buffered             | result + node runs, one statement          |
 * | `pure`   | the fast path, flows of pure nodes only       | nothing                        | buffered             | execution + node runs inserted, one statement |
 *
 * The first and last writes of the fast paths are group-committed (platform/db/batcher.ts). Each
 * store emits the execution's durable events (`execution.queued`, `execution.succeeded|failed`)
 * in the transaction of the write that makes them true; a write nobody listens to stays the
 * single statement it was (no transaction).
 */

export type PersistencePath = 'queued' | 'inline' | 'pure';

/** A new execution, before any store has written it. */
export type NewRun = Omit<statusRepo.NewExecution, 'owner' | 'leaseMs'>;

/** One run in this process, as its store writes it. */
export interface ActiveRun extends ExecutionRef {
  /** How its node inputs/outputs are stored: `data` false keeps no consumer data; `cap` in bytes of JSON. */
  store: { data: boolean; cap: number };
  /** The execution as started here (a fast path): nothing is read back. Null: claimed from the table. */
  fresh: NewRun | null;
  /** Node runs a fast path keeps until its end. */
  buffered: NodeRunRecord[];
  startedAt: Date;
  /** performance.now() when this process began running it (event and metric durations). */
  began: number;
}

/** How a run ended. */
export interface RunEnd {
  status: 'succeeded' | 'failed';
  output: unknown;
  error: ExecutionResult['error'];
  steps: number;
  /** Whether the output is stored (a queued run without consumer data keeps it until its waiter read it). */
  storeOutput: boolean;
}

export interface ExecutionStore {
  readonly path: PersistencePath;
  /** Whether the run's row holds a lease while it runs (the runner renews it; a run without one cannot be taken over). */
  readonly leased: boolean;
  /** Writes a new execution before it runs (or nothing yet: pure); `execution.queued` after the commit. */
  create<DB>(e: NewRun, uow?: UnitOfWork<DB>): Promise<void>;
  /** Stores (or buffers) one finished node. False: this process no longer holds the execution — stop. */
  saveNodeRun(run: ActiveRun, node: NodeRunRecord): Promise<boolean>;
  /** The run parked at a wait node: what ran so far is stored and the lease let go. */
  park(run: ActiveRun, wait: WaitState): Promise<boolean>;
  /** Writes the result; `execution.succeeded|failed` after the commit. False: not written (lease lost, canceled). */
  finish(run: ActiveRun, end: RunEnd): Promise<boolean>;
}

export interface StoreOptions {
  db: Kysely<object>;
  events: ExecutionEvents;
  /** The lease holder name of this process. */
  owner: string;
  leaseMs: number;
}

type Emitting<T> = T & { event: NewEvent | null };

/**
 * Runs `write` with the events it produces (`eventsOf` its result). When a durable consumer wants
 * one of them (an outbox row is written), in one transaction: the event is recorded with the change
 * and delivered after the commit, never after a rollback. Otherwise the write is one statement
 * that commits by itself, and its events are published after it, as after a commit: only listeners
 * in memory want them (metrics, a UI), and BEGIN and COMMIT would cost every group-committed batch
 * two more round trips (the flows bench lost ~30% at concurrency 1-10 on PostgreSQL to them).
 */
async function emitting<T>(
  o: StoreOptions,
  events: (NewEvent | null)[],
  write: (db: Kysely<object>) => Promise<T>,
  eventsOf: (r: T) => (NewEvent | null)[],
): Promise<T> {
  if (!events.some((e) => e !== null)) return write(o.db);
  if (!events.some((e) => e !== null && o.events.spine.wantsOutbox(e))) {
    const r = await write(o.db);
    for (const e of eventsOf(r)) if (e) o.events.spine.publish(e);
    return r;
  }
  return inTransaction(o.db, async (uow) => {
    const r = await write(uow.trx);
    for (const e of eventsOf(r)) if (e) o.events.spine.emit(uow, e);
    return r;
  });
}

const refOf = (e: NewRun): ExecutionRef => ({ id: e.id, orgId: e.orgId, flowId: e.flowId });
const msSince = (run: ActiveRun) => performance.now() - run.began;

/** The three stores over one set of group-commit batchers. */
export class ExecutionStores {
  readonly queued: ExecutionStore;
  readonly inline: ExecutionStore;
  readonly pure: ExecutionStore;

  constructor(private readonly o: StoreOptions) {
    const queuedEvent = (e: NewRun) => (o.events.wants('execution.queued') ? o.events.queued({ ...refOf(e), trigger: e.trigger }) : null);
    // Group commit: concurrent starts share one insert, concurrent fast-path ends one finish.
    const inserts = new Batcher<Emitting<statusRepo.NewExecution>, boolean>(
      (xs) =>
        emitting(
          o,
          xs.map((x) => x.event),
          (db) => statusRepo.insertExecutions(db, xs),
          (ok) => xs.map((x, i) => (ok[i] ? x.event : null)),
        ),
      { maxBatch: 200, maxInFlight: 1 },
    );
    const finishes = new Batcher<Emitting<statusRepo.FastFinish>, boolean>(
      (xs) =>
        emitting(
          o,
          xs.map((x) => x.event),
          (db) => statusRepo.finishManyWithRuns(db, o.owner, xs),
          (ok) => xs.map((x, i) => (ok[i] ? x.event : null)),
        ),
      { maxBatch: 100, maxInFlight: 1 },
    );
    const records = new Batcher<Emitting<statusRepo.FastRecord>, boolean>(
      (xs) =>
        emitting(
          o,
          xs.map((x) => x.event),
          (db) => statusRepo.recordManyWithRuns(db, xs),
          (ok) => xs.map((x, i) => (ok[i] ? x.event : null)),
        ),
      { maxBatch: 100, maxInFlight: 1 },
    );
    const ended = (run: ActiveRun, end: RunEnd): ExecutionEnd | null => o.events.ended(run, end, msSince(run));
    /** Writes the buffered node runs of a fast path, fenced by the lease (before parking). */
    const flush = async (run: ActiveRun) => {
      for (const node of run.buffered.splice(0)) if (!(await repo.saveNodeRun(o.db, run.id, o.owner, node, run.store))) return false;
      return true;
    };

    this.queued = {
      path: 'queued',
      leased: true,
      async create(e, uow) {
        const event = queuedEvent(e);
        const row = { ...e, leaseMs: o.leaseMs };
        if (!uow) return void (await inserts.push({ ...row, event }));
        // In the caller's transaction (a re-run queued with the node runs it copies).
        await statusRepo.insertExecutions(uow.trx, [row]);
        if (event) o.events.spine.emit(uow, event);
      },
      saveNodeRun: (run, node) => repo.saveNodeRun(o.db, run.id, o.owner, node, run.store),
      park: (run, wait) => statusRepo.parkExecution(o.db, run.id, o.owner, wait),
      finish: (run, end) => {
        const event = ended(run, end);
        return emitting(
          o,
          [event],
          (db) => statusRepo.finishExecution(db, run.id, o.owner, end),
          (ok) => [ok ? event : null],
        );
      },
    };

    this.inline = {
      path: 'inline',
      leased: true,
      async create(e) {
        // Written (and leased) before its first node, so a crash leaves it to be taken over.
        await inserts.push({ ...e, owner: o.owner, leaseMs: o.leaseMs, event: queuedEvent(e) });
      },
      saveNodeRun(run, node) {
        run.buffered.push(node);
        return Promise.resolve(true);
      },
      park: async (run, wait) => (await flush(run)) && statusRepo.parkExecution(o.db, run.id, o.owner, wait),
      finish: (run, end) => finishes.push({ id: run.id, runs: run.buffered, store: run.store, ...end, event: ended(run, end) }),
    };

    const inline = this.inline;
    this.pure = {
      path: 'pure',
      leased: false,
      create(e) {
        // NB: nothing is written until the run has finished (nothing it does needs a record first,
        // and a crash leaves nothing to resume); its `queued` event is published as it starts, so
        // a reader sees queued → nodes → end as for the others.
        const event = queuedEvent(e);
        if (event) o.events.spine.publish(event);
        return Promise.resolve();
      },
      saveNodeRun: (run, node) => inline.saveNodeRun(run, node),
      async park(run, wait) {
        // A pure flow has no wait node today (waiting is an effect); should one park, it is
        // written as the fast path writes a run (leased here), then parked.
        await inserts.push({ ...run.fresh!, owner: o.owner, leaseMs: o.leaseMs, event: null });
        return inline.park(run, wait);
      },
      finish: (run, end) =>
        records.push({
          id: run.id,
          runs: run.buffered,
          store: run.store,
          ...end,
          execution: run.fresh!,
          startedAt: run.startedAt,
          finishedAt: new Date(),
          event: ended(run, end),
        }),
    };
  }

  /**
   * Claims runnable executions for this process (the queue: queued or waiting and due, or running
   * with a lapsed lease). Those failed instead, for being taken over too often, get their
   * `execution.failed` with the claim.
   */
  claim(limit: number, maxReclaims: number): Promise<statusRepo.Claimed> {
    const { o } = this;
    // The failed runs are known only after the claim: a probe of the type stands in for them.
    const probe: NewEvent = { type: 'execution.failed', orgId: '', permission: 'executions:read', executionId: '', flowId: '', durationMs: 0 };
    return emitting(
      o,
      [o.events.wants('execution.failed') ? probe : null],
      (db) => statusRepo.claim(db, o.owner, limit, o.leaseMs, maxReclaims),
      (r) =>
        r.failed.map((f) =>
          o.events.ended({ id: f.id, orgId: f.org_id, flowId: f.flow_id }, { status: 'failed', error: statusRepo.crashedTooOften(maxReclaims) }, 0),
        ),
    );
  }

  /** The one place a run's persistence path is chosen. */
  choose(o: { inline: boolean; pure: boolean }): ExecutionStore {
    if (!o.inline) return this.queued;
    return o.pure ? this.pure : this.inline;
  }
}
