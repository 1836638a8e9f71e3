import os from 'node:os';
import type { QuotaGate } from '../usage/index.js';
import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Notifier, UnitOfWork } from '../../platform/db/index.js';
import type { EventBus } from '../../platform/events/index.js';
import { newId } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import {
  type Capabilities,
  type CompiledGraph,
  type ExecutionPlan,
  type ExecutionResult,
  type FlowGraph,
  type NodeRunRecord,
  compileGraph,
  executePlan,
} from '../engine/index.js';
import type { NodeRegistry } from '../nodes/index.js';
import { ExecutionEvents } from './execution-events.js';
import { isTerminal } from './execution-lifecycle.js';
import { type ActiveRun, type ExecutionStore, ExecutionStores, type NewRun } from './execution-store.js';
import * as statusRepo from './execution-status.repo.js';
import * as repo from './executions.repo.js';

/**
 * Hosts executions in this process: claims queued work (role worker/all), runs the fast path
 * inline (webhooks answering "when finished", `?wait=true`), renews leases, obeys cancels, and
 * lets callers wait for a result. Everything it does is recorded in the executions table first,
 * so any process can take over an execution whose worker died: its lease runs out, another
 * worker claims it and continues from the last stored node.
 *
 *   enqueue ─▶ executions(queued) ──NOTIFY──▶ worker.claim (SKIP LOCKED, lease) ─▶ executePlan
 *                                                 ▲ lease expired (worker died)      │ node runs
 *                                                 └──────────────────────────────────┘ finish ─▶ NOTIFY done
 */

export interface RunnerOptions {
  db: Kysely<object>;
  registry: NodeRegistry;
  /** What nodes may use in one execution; `runner` is this runner (sub-flows and agent tools start executions on it). */
  capabilities: (plan: ExecutionPlan, runner: ExecutionRunner) => Capabilities;
  notifier: Notifier;
  events: EventBus;
  logger: Logger;
  leaseMs: number;
  concurrency: number;
  pollMs: number;
  /** Stored node inputs/outputs larger than this (bytes of JSON) are truncated with a marker. */
  outputCap: number;
  retentionDays: number;
  /** The URL that resumes a wait node of an execution (carries a token only the server can make). */
  resumeUrl: (executionId: string) => string;
  /** The plan's monthly execution limit (top-level executions; sub-flows and error flows are part of their parent). */
  quota: QuotaGate;
  /** Takeovers after a lapsed lease an execution gets before it is failed (EXECUTION_CRASHED_TOO_OFTEN). */
  maxReclaims: number;
  /** Tests only (INFINITY_FAULT): kill this process at a loop checkpoint, as `kill -9` would. */
  fault?: Fault | undefined;
}

/**
 * A deterministic crash for recovery tests: `after-item` kills the process right after the
 * `count`-th completed item of loop `nodeId` was checkpointed; `before-checkpoint` right before
 * it is (its effects are committed, its checkpoint is not: the replay must not apply them twice).
 */
export interface Fault {
  point: 'after-item' | 'before-checkpoint';
  nodeId: string;
  count: number;
}

const WORK = 'infinity_work';
const DONE = 'infinity_done';
const CANCEL = 'infinity_cancel';

interface Loaded {
  graph: CompiledGraph;
  settings: FlowGraph['settings'];
  /** Some loop body has effects: its items are checkpointed (ExecutorDeps.saveLoopItem). */
  checkpoints: boolean;
}

/** An execution this process is running: how to stop it, and how it is written. */
interface Held {
  ctl: AbortController;
  store: ExecutionStore;
}

export class ExecutionRunner {
  readonly owner = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly held = new Map<string, Held>();
  private readonly graphs = new Map<string, Loaded>();
  private readonly unsubscribe: (() => void)[] = [];
  private timers: NodeJS.Timeout[] = [];
  private working = false;
  private stopping = false;
  private ticking: Promise<void> | null = null;
  private retick = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly events: ExecutionEvents;
  private readonly stores: ExecutionStores;

  constructor(private readonly o: RunnerOptions) {
    this.events = new ExecutionEvents(o.events);
    this.stores = new ExecutionStores({ db: o.db, events: this.events, owner: this.owner, leaseMs: o.leaseMs });
  }

  /** Renews the leases of executions held here (inline runs too, any role) and obeys cancels from any process. */
  startLeases(): void {
    this.unsubscribe.push(this.o.notifier.subscribe(CANCEL, (id) => this.held.get(id)?.ctl.abort(new CancelSignal())));
    const heartbeat = setInterval(() => void this.heartbeat(), Math.max(100, Math.floor(this.o.leaseMs / 3)));
    heartbeat.unref();
    this.timers.push(heartbeat);
  }

  /** Starts claiming queued executions (processes with the worker role). */
  startWorker(): void {
    this.working = true;
    this.unsubscribe.push(this.o.notifier.subscribe(WORK, () => this.tick()));
    this.timers.push(setInterval(() => this.tick(), this.o.pollMs));
    this.timers.push(setInterval(() => void this.prune(), 3_600_000));
    for (const t of this.timers) t.unref();
    this.tick();
  }

  /** Queues an execution for a worker, or runs it here and now (`inline`: the fast path). */
  async start(e: NewRun, inline: boolean): Promise<ExecutionResult | undefined> {
    if (!e.parentId) {
      await this.o.quota.check(e.orgId, 'executionsPerMonth', 1);
      this.o.quota.grew(e.orgId, 'executionsPerMonth', 1);
    }
    const pure = inline && Boolean((await this.graphOf(e.flowId, e.flowVersion))?.graph.pure);
    const store = this.stores.choose({ inline, pure });
    await store.create(e);
    if (inline) return this.track(e.id, store, e);
    await this.o.notifier.publish(WORK, e.id);
    return undefined;
  }

  /**
   * Queues an execution in the caller's transaction (a re-run, with the node runs it copies);
   * call kick() after the commit.
   */
  enqueueIn<DB>(uow: UnitOfWork<DB>, e: NewRun): Promise<void> {
    return this.stores.queued.create(e, uow);
  }

  /** Tells workers (any process) that work is waiting. */
  async kick(): Promise<void> {
    await this.o.notifier.publish(WORK, '');
  }

  /** Resolves with the execution once it has finished (any process), or its current row at the deadline. */
  async wait(id: string, timeoutMs: number): Promise<repo.ExecutionRow | undefined> {
    let wake: () => void = () => undefined;
    const off = this.o.notifier.subscribe(DONE, (done) => done === id && wake());
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const row = await repo.findExecution(this.o.db, id);
        if (!row || isTerminal(row.status) || Date.now() >= deadline) return row;
        // A notification wakes us at once; the poll covers one that was missed.
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(1000, Math.max(1, deadline - Date.now()))).unref();
        });
      }
    } finally {
      off();
    }
  }

  async cancel(orgId: string, id: string): Promise<boolean> {
    if (!(await statusRepo.cancelExecution(this.o.db, orgId, id))) return false;
    this.held.get(id)?.ctl.abort(new CancelSignal());
    await this.o.notifier.publish(CANCEL, id);
    await this.o.notifier.publish(DONE, id);
    return true;
  }

  /** Stops claiming; waits for running executions up to `graceMs`, then lets their leases lapse. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    for (const off of this.unsubscribe) off();
    const all = Promise.allSettled([...this.inflight]);
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
    for (const h of this.held.values()) h.ctl.abort(new CancelSignal('shutdown'));
    await Promise.race([all, new Promise((r) => setTimeout(r, 1000).unref())]);
  }

  get activeCount(): number {
    return this.held.size;
  }

  private tick(): void {
    if (!this.working || this.stopping) return;
    if (this.ticking) {
      this.retick = true;
      return;
    }
    this.ticking = (async () => {
      do {
        this.retick = false;
        const room = this.o.concurrency - this.held.size;
        if (room <= 0) break;
        const { ids, failed } = await this.stores.claim(room, this.o.maxReclaims).catch((err: unknown) => {
          this.o.logger.warn({ err }, 'could not claim executions');
          return { ids: [], failed: [] };
        });
        for (const f of failed) void this.crashedTooOften(f);
        // Our own lease lapsed (a stalled event loop) and was taken back: the run here goes on.
        for (const id of ids) if (!this.held.has(id)) void this.track(id, this.stores.queued, null);
        if (ids.length === room) this.retick = true;
      } while (this.retick && !this.stopping);
    })().finally(() => {
      this.ticking = null;
    });
  }

  /** An execution failed for being taken over too often (its event went with the claim): said in the log, its waiters told. */
  private async crashedTooOften(f: { id: string; org_id: string; flow_id: string }): Promise<void> {
    this.o.logger.error({ executionId: f.id, flowId: f.flow_id, maxReclaims: this.o.maxReclaims }, 'execution failed: its worker stopped mid-run too often');
    await this.o.notifier.publish(DONE, f.id).catch(() => undefined);
  }

  /** INFINITY_FAULT (tests): counts checkpointed items per loop and kills the process at the set one. */
  private faultCount = 0;
  private maybeCrash(point: Fault['point'], loopId: string): void {
    const f = this.o.fault;
    if (!f || f.point !== point || f.nodeId !== loopId) return;
    if (++this.faultCount < f.count) return;
    process.stderr.write(`INFINITY_FAULT: killing the process ${point} ${this.faultCount} of loop ${loopId}\n`);
    process.kill(process.pid, 'SIGKILL');
  }

  private async heartbeat(): Promise<void> {
    const ids = [...this.held].filter(([, h]) => h.store.leased).map(([id]) => id);
    if (!ids.length) return;
    const kept = new Set(await repo.renewLeases(this.o.db, this.owner, ids, this.o.leaseMs).catch(() => ids));
    // Lost (canceled, or taken over after a stall): stop working on it.
    for (const id of ids) if (!kept.has(id)) this.held.get(id)?.ctl.abort(new CancelSignal('lease lost'));
  }

  private async prune(): Promise<void> {
    const n = await repo.pruneExecutions(this.o.db, this.o.retentionDays).catch((err: unknown) => {
      this.o.logger.warn({ err }, 'execution retention failed');
      return 0;
    });
    if (n) this.o.logger.info({ pruned: n }, 'pruned old executions');
  }

  private async track(id: string, store: ExecutionStore, fresh: NewRun | null): Promise<ExecutionResult | undefined> {
    const held: Held = { ctl: new AbortController(), store };
    this.held.set(id, held);
    const p = this.process(id, held, fresh)
      .catch((err: unknown) => {
        this.o.logger.error({ err, executionId: id }, 'execution crashed');
        // A run with no row (pure, fast path) has nothing to be taken over: its caller gets the error.
        if (!store.leased) throw err;
        return undefined;
      })
      .finally(() => {
        this.held.delete(id);
        this.inflight.delete(p);
        this.tick();
      });
    this.inflight.add(p);
    return p;
  }

  private async graphOf(flowId: string, version: number): Promise<Loaded | undefined> {
    const key = `${flowId}:${version}`;
    const hit = this.graphs.get(key);
    if (hit) return hit;
    const row = await repo.flowGraph(this.o.db, flowId, version);
    if (!row) return undefined;
    const graph = compileGraph(row, this.o.registry.get);
    const loaded = { graph, settings: row.settings, checkpoints: [...graph.bodies.values()].some((b) => !b.graph.pure) };
    if (this.graphs.size > 1000) this.graphs.clear();
    this.graphs.set(key, loaded);
    return loaded;
  }

  /**
   * Runs one execution this process holds; resolves with its result (undefined when it stopped
   * early). `fresh`: started here and now (a fast path), so nothing is read back from the
   * database. A claimed execution resumes after its last stored node. How each step is written
   * is the store's business (ExecutionStore); this method only drives the run. NB: a fast-path run
   * whose process dies is taken over like any other, and runs again from its start under the
   * same idempotency keys.
   */
  private async process(id: string, held: Held, fresh: NewRun | null): Promise<ExecutionResult | undefined> {
    const { ctl, store } = held;
    const row = fresh ? freshRow(fresh) : await repo.findExecution(this.o.db, id);
    // Claimed, but canceled or taken over since: not ours to run.
    if (!row || (!fresh && (row.status !== 'running' || row.lease_owner !== this.owner))) return undefined;
    const run: ActiveRun = {
      id,
      orgId: row.org_id,
      flowId: row.flow_id,
      store: { data: row.store_data, cap: this.o.outputCap },
      fresh,
      buffered: [],
      startedAt: new Date(),
      began: performance.now(),
    };
    const loaded = await this.graphOf(row.flow_id, row.flow_version);
    if (!loaded) {
      const error = { nodeId: null, code: 'FLOW_VERSION_MISSING', message: 'The flow version of this execution is gone.' };
      await store.finish(run, { status: 'failed', output: null, error, steps: 0, storeOutput: false });
      return undefined;
    }
    if (row.wait) await this.settleWait(run, row.wait, loaded.graph);
    const plan = await this.planOf(run, row, loaded);
    const timeout = AbortSignal.timeout(loaded.settings.timeoutMs);
    const result = await executePlan(
      plan,
      {
        capabilities: (p) => this.o.capabilities(p, this),
        saveNodeRun: async (_p, node) => {
          const ok = (await store.saveNodeRun(run, node)) && !ctl.signal.aborted;
          if (ok) this.events.nodeFinished(run, node, run.store.data);
          return ok;
        },
        onNodeStart: (_p, node) => this.events.nodeStarted(run, node),
        ...(loaded.checkpoints
          ? {
              saveLoopItem: async (p: ExecutionPlan, loopId: string, item: string, value: unknown) => {
                this.maybeCrash('before-checkpoint', loopId);
                const ok = await repo.saveLoopItem(this.o.db, p.id, this.owner, loopId, item, value);
                this.maybeCrash('after-item', loopId);
                return ok;
              },
            }
          : {}),
      },
      AbortSignal.any([ctl.signal, timeout]),
      loaded.settings.maxSteps,
    );
    if (result.status === 'lost' || result.status === 'canceled') return undefined;
    if (result.status === 'waiting') {
      await store.park(run, result.wait!);
      return result;
    }
    // Without consumer data, an inline run hands its output to the caller in memory only; a queued
    // one leaves it for the waiting process, which erases it once read (hooks.answerOf).
    const end = { status: result.status, output: result.output, error: result.error, steps: result.steps, storeOutput: row.store_data || !fresh };
    if (!(await store.finish(run, end))) return undefined;
    if (loaded.checkpoints) await repo.forgetLoopItems(this.o.db, id);
    // Someone in another process may be waiting for a queued execution; a fast-path run's caller is here.
    if (!fresh) await this.o.notifier.publish(DONE, id);
    if (result.status === 'failed' && loaded.settings.errorFlowId && row.trigger !== 'error') {
      await this.startErrorFlow(row, loaded.settings.errorFlowId, result.error);
    }
    return result;
  }

  /** Back from a wait: the wait node is stored as done (resume body on "main", or "timeout" for an unanswered webhook wait). */
  private async settleWait(run: ActiveRun, waited: NonNullable<repo.ExecutionRow['wait']>, graph: CompiledGraph): Promise<void> {
    const ports = waited.resumed !== undefined ? { main: waited.resumed } : waited.webhook ? { timeout: waited.input } : { main: waited.input };
    const node = graph.byId.get(waited.nodeId);
    const at = new Date();
    const record: NodeRunRecord = {
      nodeId: waited.nodeId,
      nodeName: node?.name ?? waited.nodeId,
      nodeType: node?.type ?? 'core.wait',
      status: 'succeeded',
      ports,
      input: waited.input,
      error: null,
      logs: [],
      attempts: 1,
      startedAt: at,
      finishedAt: at,
    };
    await repo.settleWait(this.o.db, run.id, this.owner, record, run.store);
    this.events.nodeFinished(run, record, run.store.data);
  }

  /** What the engine runs: the graph from the start node(s), after the node runs (and loop items) stored so far. */
  private async planOf(run: ActiveRun, row: RunRow, loaded: Loaded): Promise<ExecutionPlan> {
    // A fresh inline run has no stored nodes; a claimed one may (resume after a crash, re-run).
    let prior = run.fresh ? [] : await repo.nodeRuns(this.o.db, run.id);
    if (prior.some((r) => !r.data_stored)) {
      // Outputs were not kept (storeConsumerData: false): start over rather than resume blind.
      await repo.forgetNodeRuns(this.o.db, run.id);
      prior = [];
    }
    // Loops whose body has effects checkpoint each item; a resumed execution skips those stored.
    const priorItems = loaded.checkpoints && !run.fresh ? await repo.loopItems(this.o.db, run.id) : undefined;
    return {
      id: run.id,
      orgId: row.org_id,
      flowId: row.flow_id,
      trigger: row.trigger,
      graph: loaded.graph,
      start: this.startNodes(loaded.graph, row.start_node),
      input: row.input,
      usePins: row.use_pins,
      prior: prior.map((r) => ({ nodeId: r.node_id, status: r.status, ports: r.ports })),
      // Signed only for flows that can wait for it.
      ...(loaded.graph.graph.nodes.some((n) => n.type === 'core.wait') ? { resumeUrl: this.o.resumeUrl(run.id) } : {}),
      ...(priorItems?.size ? { priorItems } : {}),
    };
  }

  private startNodes(g: CompiledGraph, startNode: string | null): string[] {
    if (startNode) return [startNode];
    const roots = g.graph.nodes.filter((n) => (g.incoming.get(n.id) ?? []).length === 0);
    const manual = roots.filter((n) => n.type === 'trigger.manual');
    if (manual.length) return manual.map((n) => n.id);
    // A manual run of a flow without a manual trigger starts at its first trigger, else at every root.
    const trigger = roots.find((n) => g.defs.get(n.id)?.kind === 'trigger');
    return trigger ? [trigger.id] : roots.map((n) => n.id);
  }

  private async startErrorFlow(row: Pick<repo.ExecutionRow, 'id' | 'org_id' | 'flow_id'>, errorFlowId: string, error: unknown): Promise<void> {
    const version = await repo.currentFlowVersion(this.o.db, row.org_id, errorFlowId);
    if (version === undefined) return this.o.logger.warn({ flowId: row.flow_id, errorFlowId }, 'error flow not found');
    await this.start(
      {
        id: newId(),
        orgId: row.org_id,
        flowId: errorFlowId,
        flowVersion: version,
        trigger: 'error',
        startNode: null,
        input: { execution: { id: row.id, flowId: row.flow_id }, error },
        storeData: true,
        usePins: false,
        parentId: row.id,
      },
      false,
    );
  }
}

/** What a run reads of its execution: the stored row, or (fresh) the same fields from memory. */
type RunRow = Pick<repo.ExecutionRow, 'id' | 'org_id' | 'flow_id' | 'flow_version' | 'trigger' | 'start_node' | 'input' | 'use_pins' | 'store_data'> &
  Partial<Pick<repo.ExecutionRow, 'status' | 'lease_owner' | 'wait'>>;

const freshRow = (e: NewRun): RunRow => ({
  id: e.id,
  org_id: e.orgId,
  flow_id: e.flowId,
  flow_version: e.flowVersion,
  trigger: e.trigger,
  start_node: e.startNode,
  input: e.input,
  use_pins: e.usePins,
  store_data: e.storeData,
});

class CancelSignal extends Error {
  constructor(message = 'canceled') {
    super(message);
    this.name = 'CancelError';
  }
}
