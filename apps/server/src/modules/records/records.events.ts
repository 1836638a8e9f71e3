import type { EventRecord } from '@infinity/contracts';
import type { UnitOfWork } from '../../platform/db/index.js';
import type { EventSpine } from '../../platform/events/index.js';
import { type OrgActor, eventActor } from '../access/index.js';

/**
 * The typed record events (packages/contracts/src/events.ts), emitted in the write's transaction:
 * delivered after it commits, never after a rollback.
 *   record.created {after} · record.updated {before, after, changed} · record.deleted {before}
 * A record the database removes or changes because of another delete (`on delete cascade`, `set
 * null`) carries `cause`: the record whose delete did it.
 */

export type Cause = { type: 'cascade'; model: string; recordId: string };

/** The record events of one actor's writes in one unit of work. */
export function recordEvents(events: EventSpine, uow: UnitOfWork<object>, actor: OrgActor) {
  const base = { orgId: actor.orgId, permission: 'records:read' as const, actor: eventActor(actor) };
  return {
    created(model: string, after: EventRecord): void {
      events.emit(uow, { type: 'record.created', ...base, model, recordId: after.id, after });
    },
    updated(model: string, change: { before: EventRecord; after: EventRecord; changed: string[]; cause?: Cause }): void {
      events.emit(uow, { type: 'record.updated', ...base, model, recordId: change.after.id, ...change });
    },
    deleted(model: string, before: EventRecord, cause?: Cause): void {
      events.emit(uow, { type: 'record.deleted', ...base, model, recordId: before.id, before, ...(cause ? { cause } : {}) });
    },
  };
}
export type RecordEvents = ReturnType<typeof recordEvents>;
