import { Cron } from 'croner';
import { type Kysely, sql } from 'kysely';
import type { EventOf, EventSpine, TypedEvent } from '../../platform/events/index.js';
import { isUniqueViolation } from '../../platform/db/index.js';
import { derivedId } from '../../platform/ids.js';
import type { Logger } from '../../platform/logger.js';
import type { FlowActor } from '../access/index.js';
import * as exec from './executions.repo.js';
import * as repo from './flows.repo.js';
import { type ActiveFlows, type FlowRunContext, runFlow } from './flows.service.js';

/**
 * Event triggers of active flows: record events and schedules (in scheduler processes; a tick row
 * in the database makes exactly one of several schedulers run each tick).
 *
 *   records write ──emit record.*──► outbox row, only if `wants` (an active trigger on that model
 *                                    and event) ──drain──► handle: one execution per trigger,
 *                                    its id derived from the event id (a redelivery starts none)
 *   flows write ──emit flow.saved──► every process reloads its table of active triggers
 *
 * The table of active flows is also what webhooks read (`activeFlow`), so a webhook call skips a
 * database read.
 */

/** The record events a trigger can listen to. */
export const RECORD_EVENTS = ['record.created', 'record.updated', 'record.deleted'] as const;
export type RecordEvent = EventOf<(typeof RECORD_EVENTS)[number]>;

export interface RecordTrigger {
  flow: Pick<repo.FlowRow, 'id' | 'org_id' | 'version'>;
  nodeId: string;
  model: string;
  /** created | updated | deleted */
  events: string[];
  filter: Record<string, unknown> | undefined;
}

export interface TriggerDeps {
  db: Kysely<object>;
  /** Starts the executions (with wait: false, so only the queue path of runFlow is used). */
  run: FlowRunContext;
  events: EventSpine;
  logger: Logger;
  /** Decides whether a record matches a trigger's filter (the records filter language). */
  matches: (actor: FlowActor, model: string, filter: Record<string, unknown>, record: Record<string, unknown>) => Promise<boolean>;
  /** Runs schedules in this process (roles all and scheduler). */
  scheduler: boolean;
}

/** The triggers of one event: a flow's own writes never trigger it again (no endless loops). */
export function triggersFor(table: ReadonlyMap<string, RecordTrigger[]>, e: Pick<RecordEvent, 'type' | 'orgId' | 'model' | 'actor'>): RecordTrigger[] {
  const list = table.get(e.orgId);
  if (!list) return [];
  const event = e.type.slice('record.'.length);
  return list.filter((t) => t.model === e.model && t.events.includes(event) && !(e.actor?.type === 'flow' && e.actor.id === t.flow.id));
}

/** The execution a trigger starts for an event: the same for every delivery of that event. */
export const triggeredExecutionId = (e: Pick<TypedEvent, 'id' | 'at'>, t: RecordTrigger) => derivedId(new Date(e.at), `${e.id}:${t.flow.id}:${t.nodeId}`);

export class TriggerHub implements ActiveFlows {
  private records = new Map<string, RecordTrigger[]>();
  private active = new Map<string, repo.FlowRow>();
  private jobs: Cron[] = [];
  private readonly off: (() => void)[] = [];
  private reloading: Promise<void> | null = null;
  private loaded: Promise<void> | null = null;
  private again = false;
  private closed = false;
  private readonly handling = new Map<string, Promise<void>>();

  constructor(private readonly d: TriggerDeps) {}

  async start(): Promise<void> {
    this.off.push(this.d.events.subscribe('flow.saved', (e) => this.onFlowSaved(e)));
    this.off.push(
      this.d.events.consume({
        name: 'record-triggers',
        types: RECORD_EVENTS,
        wants: (e) => this.wants(e as RecordEvent),
        handle: (e) => this.onRecord(e as RecordEvent),
      }),
    );
    await (this.loaded = this.reload());
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const f of this.off) f();
    for (const j of this.jobs) j.stop();
    this.jobs = [];
    await this.reloading;
  }

  settled(): Promise<void> {
    return this.reloading ?? Promise.resolve();
  }

  /** Reads the active flows again (also after a lost connection to the event transport). */
  reload(): Promise<void> {
    if (this.reloading) {
      // A reload is under way but may have read before this change: run once more after it.
      this.again = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.again = false;
        await this.load().catch((err: unknown) => this.d.logger.error({ err }, 'could not load flow triggers'));
      } while (this.again && !this.closed);
    })().finally(() => {
      this.reloading = null;
    });
    return this.reloading;
  }

  /** An active flow by id, as last loaded (kept in step by flow.saved events). */
  activeFlow(id: string): repo.FlowRow | undefined {
    return this.active.get(id);
  }

  /** Evaluated in the writing process: no outbox row unless some active trigger listens to this event. */
  wants(e: RecordEvent): boolean {
    return triggersFor(this.records, e).length > 0;
  }

  private onFlowSaved(e: EventOf<'flow.saved'>): void {
    // Only active flows have triggers: editing an inactive one changes nothing to reload.
    if (e.change !== 'activated' && !this.active.has(e.flowId)) return;
    void this.reload();
  }

  private async load(): Promise<void> {
    const flows = await repo.activeFlows(this.d.db as Kysely<repo.FlowTables>);
    const records = new Map<string, RecordTrigger[]>();
    for (const j of this.jobs) j.stop();
    this.jobs = [];
    if (this.closed) return;
    for (const f of flows) {
      for (const n of f.nodes) {
        if (n.disabled) continue;
        if (n.type === 'trigger.record') {
          const p = n.params as { model?: string; events?: string[]; filter?: Record<string, unknown> };
          if (!p.model) continue;
          const list = records.get(f.org_id) ?? [];
          list.push({ flow: f, nodeId: n.id, model: p.model, events: p.events ?? ['created'], filter: p.filter });
          records.set(f.org_id, list);
        } else if (n.type === 'trigger.schedule' && this.d.scheduler) {
          const p = n.params as { cron?: string; timezone?: string };
          if (!p.cron) continue;
          try {
            const job = new Cron(
              p.cron,
              { timezone: p.timezone ?? 'UTC', mode: '5-or-6-parts', protect: true },
              (self: Cron) => void this.tick(f, n.id, self.currentRun() ?? new Date()),
            );
            this.jobs.push(job);
          } catch (err) {
            this.d.logger.warn({ err, flowId: f.id, nodeId: n.id }, 'invalid schedule');
          }
        }
      }
    }
    this.records = records;
    this.active = new Map(flows.map((f) => [f.id, f]));
  }

  private async tick(flow: repo.FlowRow, nodeId: string, at: Date): Promise<void> {
    const tickAt = new Date(Math.floor(at.getTime() / 1000) * 1000);
    try {
      const won =
        await sql`insert into schedule_ticks (flow_id, node_id, tick_at) values (${flow.id}, ${nodeId}, ${tickAt.toISOString()}::timestamptz) on conflict do nothing`.execute(
          this.d.db,
        );
      if (Number(won.numAffectedRows ?? 0) !== 1) return;
      await runFlow(this.d.run, flow, {
        input: { firedAt: new Date().toISOString(), scheduledFor: tickAt.toISOString() },
        trigger: 'schedule',
        startNode: nodeId,
        wait: false,
      });
    } catch (err) {
      this.d.logger.error({ err, flowId: flow.id }, 'schedule tick failed');
    }
  }

  /**
   * A durable delivery of a record event (at least once). Each matching trigger starts one
   * execution whose id is derived from the event id: a redelivery finds it and starts nothing.
   * A failure throws, so the spine delivers the event again later.
   */
  onRecord(e: RecordEvent): Promise<void> {
    // Two deliveries of one event in this process at once: the second waits for the first (and
    // then finds its executions), so they never race to insert the same execution.
    const running = this.handling.get(e.id);
    if (running) return running.catch(() => undefined).then(() => this.onRecord(e));
    const p = this.startTriggered(e).finally(() => this.handling.delete(e.id));
    this.handling.set(e.id, p);
    return p;
  }

  private async startTriggered(e: RecordEvent): Promise<void> {
    // Delivered right after start-up (an outbox rescan): the table must be there first.
    await this.loaded;
    const event = e.type.slice('record.'.length);
    const record = e.type === 'record.deleted' ? e.before : e.after;
    const changed = e.type === 'record.updated' ? e.changed : null;
    for (const t of triggersFor(this.records, e)) {
      const id = triggeredExecutionId(e, t);
      if (await exec.findExecution(this.d.run.db, id)) continue;
      const flowActor: FlowActor = { kind: 'flow', flowId: t.flow.id, executionId: '', orgId: e.orgId, role: 'editor' };
      if (t.filter && !(await this.d.matches(flowActor, t.model, t.filter, record))) continue;
      try {
        await runFlow(this.d.run, t.flow, { id, input: { event, model: t.model, record, changed }, trigger: 'record', startNode: t.nodeId, wait: false });
      } catch (err) {
        // Started by a concurrent delivery of the same event meanwhile: that one counts.
        if (!isUniqueViolation(err)) throw err;
      }
    }
  }
}
