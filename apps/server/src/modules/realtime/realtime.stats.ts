import { randomUUID } from 'node:crypto';
import type { DomainEvent as TypedEvent } from '@infinity/contracts';
import type { EventText } from './realtime.frames.js';

/**
 * The `stats` channel: per organization, what finished and changed since the last push, pushed at
 * most once a second while there is something to say, so a dashboard adds it to what it loaded:
 *
 *   {"executions":{"succeeded":n,"failed":n},"records":{"created":n,"updated":n,"deleted":n},"from":ISO,"to":ISO}
 *
 * `from`..`to` is the span of the counted events' commits. Each process counts the events it
 * hears for its own subscribers (it listens to these types while it has any).
 */
interface Pending {
  executions: { succeeded: number; failed: number };
  records: { created: number; updated: number; deleted: number };
  from: string;
  to: string;
}

export const STATS_INTERVAL_MS = 1000;

export class StatsFeed {
  private readonly pending = new Map<string, Pending>();
  private readonly last = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly wanted: (orgId: string) => boolean,
    private readonly push: (orgId: string, text: EventText) => void,
    private readonly now: () => number = Date.now,
  ) {}

  count(e: TypedEvent): void {
    let field: ['executions', 'succeeded' | 'failed'] | ['records', 'created' | 'updated' | 'deleted'];
    switch (e.type) {
      case 'execution.succeeded':
        field = ['executions', 'succeeded'];
        break;
      case 'execution.failed':
        field = ['executions', 'failed'];
        break;
      case 'record.created':
      case 'record.updated':
      case 'record.deleted':
        field = ['records', e.type.slice('record.'.length) as 'created'];
        break;
      default:
        return;
    }
    if (!this.wanted(e.orgId)) return;
    let p = this.pending.get(e.orgId);
    if (!p) {
      p = { executions: { succeeded: 0, failed: 0 }, records: { created: 0, updated: 0, deleted: 0 }, from: e.at, to: e.at };
      this.pending.set(e.orgId, p);
    }
    (p[field[0]] as Record<string, number>)[field[1]]! += 1;
    if (e.at < p.from) p.from = e.at;
    if (e.at > p.to) p.to = e.at;
    if (this.timers.has(e.orgId)) return;
    const wait = Math.max(0, (this.last.get(e.orgId) ?? 0) + STATS_INTERVAL_MS - this.now());
    const timer = setTimeout(() => this.flush(e.orgId), wait);
    timer.unref();
    this.timers.set(e.orgId, timer);
  }

  private flush(orgId: string): void {
    this.timers.delete(orgId);
    const p = this.pending.get(orgId);
    this.pending.delete(orgId);
    if (!p) return;
    this.last.set(orgId, this.now());
    this.push(orgId, { eventId: randomUUID(), event: 'stats.delta', body: JSON.stringify(p), at: new Date(this.now()).toISOString() });
  }

  /** An organization without stats subscribers any more. */
  forget(orgId: string): void {
    clearTimeout(this.timers.get(orgId));
    this.timers.delete(orgId);
    this.pending.delete(orgId);
    this.last.delete(orgId);
  }

  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.pending.clear();
  }
}
