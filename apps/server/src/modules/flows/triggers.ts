import { Cron } from 'croner';
import { type Kysely, sql } from 'kysely';
import type { DomainEvent, EventBus } from '../../platform/events/index.js';
import type { Notifier } from '../../platform/db/index.js';
import type { Logger } from '../../platform/logger.js';
import type { FlowActor } from '../access/index.js';
import * as repo from './flows.repo.js';
import { type FlowRunContext, runFlow } from './flows.service.js';

/**
 * Event triggers of active flows: record events (in the process where the change committed) and
 * schedules (in scheduler processes; a tick row in the database makes exactly one of several
 * schedulers run each tick). The set of active triggers is reloaded when a flow changes here
 * (and, through a notification, in every other process).
 */

const FLOWS_CHANGED = 'infinity_flows';

interface RecordTrigger {
  flow: Pick<repo.FlowRow, 'id' | 'org_id' | 'version'>;
  nodeId: string;
  model: string;
  events: string[];
  filter: Record<string, unknown> | undefined;
}

export interface TriggerDeps {
  flows: FlowRunContext;
  db: Kysely<object>;
  events: EventBus;
  notifier: Notifier;
  logger: Logger;
  /** Decides whether a record matches a trigger's filter (the records filter language). */
  matches: (actor: FlowActor, model: string, filter: Record<string, unknown>, record: Record<string, unknown>) => Promise<boolean>;
  /** Runs schedules in this process (roles all and scheduler). */
  scheduler: boolean;
}

export class TriggerHub {
  private records = new Map<string, RecordTrigger[]>();
  private active = new Map<string, repo.FlowRow>();
  private jobs: Cron[] = [];
  private readonly off: (() => void)[] = [];
  private reloading: Promise<void> | null = null;
  private again = false;
  private closed = false;

  constructor(private readonly d: TriggerDeps) {}

  async start(): Promise<void> {
    for (const type of ['record.created', 'record.updated', 'record.deleted']) this.off.push(this.d.events.subscribe(type, (e) => this.onRecord(e)));
    this.off.push(this.d.notifier.subscribe(FLOWS_CHANGED, () => void this.reload()));
    await this.reload();
  }

  /** A flow was saved, (de)activated or deleted: reload here and tell the other processes. */
  async changed(): Promise<void> {
    void this.d.notifier.publish(FLOWS_CHANGED, '').catch(() => undefined);
    await this.reload();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const f of this.off) f();
    for (const j of this.jobs) j.stop();
    this.jobs = [];
    await this.reloading;
  }

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

  /** An active flow by id, as last loaded (kept in step by change notifications). */
  activeFlow(id: string): repo.FlowRow | undefined {
    return this.active.get(id);
  }

  private async tick(flow: repo.FlowRow, nodeId: string, at: Date): Promise<void> {
    const tickAt = new Date(Math.floor(at.getTime() / 1000) * 1000);
    try {
      const won =
        await sql`insert into schedule_ticks (flow_id, node_id, tick_at) values (${flow.id}, ${nodeId}, ${tickAt.toISOString()}::timestamptz) on conflict do nothing`.execute(
          this.d.db,
        );
      if (Number(won.numAffectedRows ?? 0) !== 1) return;
      await runFlow(this.d.flows, flow, {
        input: { firedAt: new Date().toISOString(), scheduledFor: tickAt.toISOString() },
        trigger: 'schedule',
        startNode: nodeId,
        wait: false,
      });
    } catch (err) {
      this.d.logger.error({ err, flowId: flow.id }, 'schedule tick failed');
    }
  }

  private async onRecord(e: DomainEvent): Promise<void> {
    const list = this.records.get(e.orgId);
    if (!list) return;
    const event = e.type.slice('record.'.length);
    const actor = e.actor as { type?: string; id?: string } | undefined;
    for (const t of list) {
      if (t.model !== e.model || !t.events.includes(event)) continue;
      // A flow's own writes never trigger it again (no endless loops).
      if (actor?.type === 'flow' && actor.id === t.flow.id) continue;
      const record = e.record as Record<string, unknown>;
      const flowActor: FlowActor = { kind: 'flow', flowId: t.flow.id, executionId: '', orgId: e.orgId, role: 'editor' };
      if (t.filter && !(await this.d.matches(flowActor, t.model, t.filter, record))) continue;
      await runFlow(this.d.flows, t.flow, {
        input: { event, model: t.model, record, changed: e.changed ?? null },
        trigger: 'record',
        startNode: t.nodeId,
        wait: false,
      });
    }
  }
}
