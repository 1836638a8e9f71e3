import type { DomainEvent as TypedEvent } from '@infinity/contracts';
import type { WebhookRow } from './webhooks.repo.js';

/** The events a subscription may name, with the permission its grantor's role must hold to receive each. */
export const WEBHOOK_EVENTS = {
  'record.created': 'records:read',
  'record.updated': 'records:read',
  'record.deleted': 'records:read',
  'execution.succeeded': 'executions:read',
  'execution.failed': 'executions:read',
  'usage.alert': 'usage:read',
} as const;
export type WebhookEvent = keyof typeof WEBHOOK_EVENTS;
export const WEBHOOK_EVENT_NAMES = Object.keys(WEBHOOK_EVENTS) as WebhookEvent[];
export const isRecordEvent = (type: string) => type.startsWith('record.');

export interface Subscription {
  id: string;
  orgId: string;
  events: ReadonlySet<string>;
  model: string | null;
  filter: Record<string, unknown> | null;
  version: number;
}

type Change = { row: WebhookRow } | { deleted: string };

/**
 * The enabled subscriptions of every organization, in memory, so the spine's `wants` (asked
 * synchronously while a writer's transaction commits) answers without a query. Loaded at start;
 * kept in step by `webhook.changed` (broadcast to every process; the writing process applies its
 * own change at commit). Changes are ordered by the row's `version`: a late, older read never
 * overwrites a newer one, and a deleted id stays deleted.
 */
export class SubscriptionIndex {
  private byOrg = new Map<string, Map<string, Subscription>>();
  private versions = new Map<string, number>();
  /** Changes applied while a full load runs: re-applied on top of what it read. */
  private during: Change[] | undefined;

  load(rows: WebhookRow[]): void {
    this.byOrg = new Map();
    this.versions = new Map();
    for (const row of rows) this.put(row);
  }

  /** Starts a full load: changes applied until `finishLoad` are kept on top of it. */
  beginLoad(): void {
    this.during = [];
  }

  finishLoad(rows: WebhookRow[]): void {
    const during = this.during ?? [];
    this.during = undefined;
    this.load(rows);
    for (const c of during) this.apply(c);
  }

  apply(change: Change): void {
    this.during?.push(change);
    if ('deleted' in change) {
      this.remove(change.deleted);
      this.versions.set(change.deleted, Number.POSITIVE_INFINITY);
      return;
    }
    const known = this.versions.get(change.row.id);
    if (known !== undefined && known > change.row.version) return;
    this.remove(change.row.id);
    this.put(change.row);
  }

  /** The enabled subscriptions an event goes to, before filters (evaluated at delivery). */
  matching(e: Pick<TypedEvent, 'type' | 'orgId'> & { model?: string }): Subscription[] {
    const subs = this.byOrg.get(e.orgId);
    if (!subs) return [];
    const out: Subscription[] = [];
    for (const s of subs.values()) if (s.events.has(e.type) && (!isRecordEvent(e.type) || s.model === e.model)) out.push(s);
    return out;
  }

  /** Whether any enabled subscription, in any organization, names this event type. */
  hasType(type: string): boolean {
    for (const subs of this.byOrg.values()) for (const s of subs.values()) if (s.events.has(type)) return true;
    return false;
  }

  private put(row: WebhookRow): void {
    this.versions.set(row.id, row.version);
    if (!row.enabled) return;
    let subs = this.byOrg.get(row.org_id);
    if (!subs) this.byOrg.set(row.org_id, (subs = new Map<string, Subscription>()));
    subs.set(row.id, { id: row.id, orgId: row.org_id, events: new Set(row.events), model: row.model, filter: row.filter, version: row.version });
  }

  private remove(id: string): void {
    for (const [org, subs] of this.byOrg) {
      if (!subs.delete(id)) continue;
      if (subs.size === 0) this.byOrg.delete(org);
      return;
    }
  }
}
